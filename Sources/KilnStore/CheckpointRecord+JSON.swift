package import KilnBasics
import KilnModel

extension CheckpointRecord {
    /// The record as one cassette line: everything needed to serve the unit again, calls included.
    package var json: JSONValue {
        var object = JSONObject()
        object["key"] = .string(key)
        object["stage"] = .string(stage)
        object["status"] = .string(status.rawValue)
        object["item"] = item ?? .null
        object["error"] = error.map(JSONValue.string) ?? .null
        object["usage"] = .object(
            JSONObject([
                ("input_tokens", .integer(usage.inputTokens)), ("output_tokens", .integer(usage.outputTokens)),
                ("cost_usd", .double(usage.costUSD)),
            ]))
        object["latency_ms"] = .integer(latencyMS)
        object["attempts"] = .integer(attempts)
        object["calls"] = .array(calls.map(\.json))
        return .object(object)
    }

    /// A record from a cassette line; nil when a required field is missing.
    package init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let stage = json["stage"]?.stringValue,
            let status = json["status"]?.stringValue.flatMap(Status.init(rawValue:))
        else { return nil }
        let number = { (value: JSONValue?) in value?.numberValue ?? 0 }
        self.init(
            key: key, stage: stage, status: status, item: json["item"].flatMap { $0 == .null ? nil : $0 },
            error: json["error"]?.stringValue,
            usage: Usage(
                inputTokens: Int(number(json["usage"]?["input_tokens"])),
                outputTokens: Int(number(json["usage"]?["output_tokens"])),
                costUSD: number(json["usage"]?["cost_usd"])),
            latencyMS: Int(number(json["latency_ms"])), attempts: Int(number(json["attempts"])),
            calls: (json["calls"]?.arrayValue ?? []).compactMap(RecordedCall.init(json:)))
    }
}

extension RecordedCall {
    /// The call as stored and as a cassette carries it.
    package var json: JSONValue {
        .object(
            JSONObject([
                ("request_hash", .string(requestHash)), ("provider", .string(provider)), ("request", request),
                ("response", response),
            ]))
    }

    /// A call from its JSON form; nil when a field is missing.
    package init?(json: JSONValue) {
        guard let hash = json["request_hash"]?.stringValue, let provider = json["provider"]?.stringValue,
            let request = json["request"], let response = json["response"]
        else { return nil }
        self.init(requestHash: hash, provider: provider, request: request, response: response)
    }
}

extension RecordedCall {
    /// Calls as a store keeps them: one JSON array of `json` forms, written around the request text that was sent
    /// instead of serializing the request again.
    package static func storedText(of calls: [RecordedCall]) -> String {
        var text = "["
        for (index, call) in calls.enumerated() {
            if index > 0 { text += "," }
            text += #"{"request_hash":"\#(call.requestHash)","provider":"#
            text += JSONValue.string(call.provider).serialized()
            text += #","request":"# + (call.requestText ?? call.request.serialized())
            text += #","response":"# + call.response.serialized() + "}"
        }
        return text + "]"
    }

    /// Every call's request hash, in order, as a store's `request_hash` column holds them.
    package static func storedHashes(of calls: [RecordedCall]) -> String {
        calls.map(\.requestHash).joined(separator: ",")
    }

    /// The calls `storedText(of:)` wrote.
    package static func calls(fromStoredText text: String) throws -> [RecordedCall] {
        try JSONValue(parsing: text).arrayValue?.compactMap(RecordedCall.init(json:)) ?? []
    }
}
