import Foundation
import KilnBasics

/// `stream: true` on chat completions: the same answer as OpenAI's server-sent events — a role chunk, one chunk
/// per token (with its logprobs when asked), tool-call arguments in pieces, a finish chunk per choice, a usage
/// chunk when `stream_options.include_usage` is set, and `data: [DONE]` — so SDK clients get chunks to iterate.
enum FakeStream {
    static func reply(_ completion: JSONValue, request body: JSONValue) -> HTTPReply {
        let includeUsage = body["stream_options"]?["include_usage"] == .bool(true)
        var events: [JSONValue] = []
        func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) {
            var chunk = JSONObject()
            chunk["id"] = completion["id"] ?? .string("chatcmpl-fake")
            chunk["object"] = .string("chat.completion.chunk")
            chunk["created"] = completion["created"] ?? .integer(0)
            chunk["model"] = completion["model"] ?? .string("fake")
            chunk["choices"] = .array(choices)
            if includeUsage { chunk["usage"] = usage ?? .null }
            events.append(.object(chunk))
        }
        func delta(
            _ index: JSONValue, _ delta: [(String, JSONValue)], logprob: JSONValue? = nil, finish: String?
        )
            -> JSONValue
        {
            .object(
                JSONObject([
                    ("index", index), ("delta", .object(JSONObject(delta))),
                    ("logprobs", logprob.map { .object(JSONObject([("content", .array([$0]))])) } ?? .null),
                    ("finish_reason", finish.map(JSONValue.string) ?? .null),
                ]))
        }
        for choice in completion["choices"]?.arrayValue ?? [] {
            let index = choice["index"] ?? .integer(0)
            let message = choice["message"]
            chunk([delta(index, [("role", .string("assistant")), ("content", .string(""))], finish: nil)])
            if let calls = message?["tool_calls"]?.arrayValue {
                for (position, call) in calls.enumerated() {
                    let arguments = call["function"]?["arguments"]?.stringValue ?? ""
                    let head = JSONObject([
                        ("index", .integer(position)), ("id", call["id"] ?? .null), ("type", .string("function")),
                        (
                            "function",
                            .object(
                                JSONObject([("name", call["function"]?["name"] ?? .null), ("arguments", .string(""))]))
                        ),
                    ])
                    chunk([delta(index, [("tool_calls", .array([.object(head)]))], finish: nil)])
                    for piece in FakeTokenizer.pieces(arguments) {
                        let part = JSONObject([
                            ("index", .integer(position)),
                            ("function", .object(JSONObject([("arguments", .string(piece))]))),
                        ])
                        chunk([delta(index, [("tool_calls", .array([.object(part)]))], finish: nil)])
                    }
                }
            } else if let text = message?["content"]?.stringValue {
                let logprobs = choice["logprobs"]?["content"]?.arrayValue
                for (position, piece) in FakeTokenizer.pieces(text).enumerated() {
                    let logprob = logprobs.flatMap { position < $0.count ? $0[position] : nil }
                    chunk([delta(index, [("content", .string(piece))], logprob: logprob, finish: nil)])
                }
            }
            chunk([delta(index, [], finish: choice["finish_reason"]?.stringValue ?? "stop")])
        }
        if includeUsage { chunk([], usage: completion["usage"] ?? .null) }
        let text = events.map { "data: \($0.serialized())\n\n" }.joined() + "data: [DONE]\n\n"
        return .response(
            status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
            body: Data(text.utf8))
    }
}
