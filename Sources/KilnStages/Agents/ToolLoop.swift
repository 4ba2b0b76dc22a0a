import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import KilnStore

/// Kiln's tool loop for one item: the model answers with tool calls, they are run and their results sent back,
/// until it gives its final answer — within `max_tool_calls` and `max_turns`. Every model turn goes through the
/// executor (limiter, retries, budget, answer journal) and a turn that asked for tools is checkpointed under the
/// conversation so far, so a run stopped mid-conversation resumes there without paying for a turn twice. The
/// conversation is kept as the run's `trace`, in the OpenAI message shape Kiln stores.
struct ToolLoop: Sendable {
    let tools: ToolBox
    let maxToolCalls: Int
    let maxTurns: Int
    let executor: CallExecutor
    let entry: ProviderPool.Entry
    let store: any CheckpointStore
    let stageID: String
    /// `--fresh`: every turn asked again.
    let fresh: Bool
    /// Where the stage is written (`p.yml:12:5`), for messages.
    let place: String

    struct Conversation: Sendable {
        var value: JSONValue
        var response: ChatResponse
        var trace: [JSONValue]
        var calls: [RecordedCall] = []
        var attempts = 0
        var usage = Usage()
        var latencyMS = 0
        var toolCalls = 0
        var toolErrors = 0
        /// Milliseconds spent in each tool, by name.
        var toolLatencyMS: [String: Int] = [:]
        /// The chunks the searches returned, in order.
        var retrieved: [JSONValue] = []
        /// The runs of tasks called as tools, each with the call it answered.
        var subTaskRuns: [JSONValue] = []
        /// The tools the model was offered.
        var offer = ToolBox.Offer(ids: [], definitions: [], needsDefinitions: false)
    }

    enum Outcome: Sendable {
        case answered(Conversation)
        case failed(reason: String, attempts: Int, usage: Usage)
    }

    /// Runs the conversation from `messages` (system and user); `validateFinal` checks the final answer.
    func run(
        _ messages: [ChatMessage], params: ModelParams, structured: StructuredOutputSpec?,
        validateFinal: @escaping @Sendable (ChatResponse) -> Result<JSONValue, ValidationFailure>
    ) async throws(RunStop) -> Outcome {
        var messages = messages
        var done = Conversation(
            value: .null, response: ChatResponse(choices: [], usage: Usage(), raw: .null),
            trace: messages.map(Self.trace))
        let tools = self.tools
        let offer: ToolBox.Offer
        do {
            offer = try await tools.offer()
        } catch {
            // No item can run without its tools (a listed tool the server lacks, a server that cannot start): the
            // stage stops once, saying where it is written, instead of failing every item alike.
            let message = (error as? MCPFailure)?.description ?? "\(error)"
            throw .stageFailed("stage '\(stageID)' (\(place)): the tools could not be offered: \(message)")
        }
        done.offer = offer
        for _ in 0..<maxTurns {
            let request = ChatRequest(
                messages: messages, params: params, structured: structured, tools: offer.definitions)
            let turnKey = CheckpointKey.make(
                JSONObject([
                    ("turn", .string(RequestBody(entry.provider.body(for: request)).hash)),
                    ("provider", .string(entry.provider.config.name)),
                ]))
            var turn: ChatChoice
            if !fresh, let record = try? await store.records(forKeys: [turnKey])[turnKey], record.status == .done,
                let saved = record.item, let replayed = Self.choice(from: saved)
            {
                turn = replayed
            } else {
                let outcome: CallOutcome<JSONValue> = try await executor.execute(request, on: entry, fresh: fresh) {
                    response in
                    let choice = response.choices[0]
                    let asked = choice.toolCalls.filter { offer.offers($0.name) }
                    guard asked.isEmpty else {
                        if let other = choice.toolCalls.first(where: { !offer.offers($0.name) }) {
                            return .failure(
                                ValidationFailure(
                                    "the model called '\(other.name)' beside the tools it was offered in one turn"))
                        }
                        return .success(JSONValue.null)
                    }
                    return validateFinal(response)
                }
                switch outcome {
                case .succeeded(let value, let response, let call, let attempts, let usage, let latency):
                    done.usage += usage
                    done.attempts += attempts
                    done.latencyMS += latency
                    done.calls.append(call)
                    let choice = response.choices[0]
                    guard choice.toolCalls.contains(where: { offer.offers($0.name) }) else {
                        done.value = value
                        done.response = response
                        done.trace.append(
                            JSONValue.object(
                                JSONObject([("role", .string("assistant")), ("content", .string(choice.text))])))
                        return .answered(done)
                    }
                    turn = choice
                    try? await store.checkpoint(
                        CheckpointRecord(
                            key: turnKey, stage: stageID + "#turns", status: .done, item: Self.json(of: choice),
                            usage: usage, latencyMS: latency, attempts: attempts, calls: [call]))
                case .failed(let reason, let attempts, let usage):
                    return .failed(reason: reason, attempts: done.attempts + attempts, usage: done.usage + usage)
                }
            }
            done.toolCalls += turn.toolCalls.count
            guard done.toolCalls <= maxToolCalls else {
                return .failed(
                    reason: "the model asked for more than \(maxToolCalls) tool calls (max_tool_calls)",
                    attempts: done.attempts, usage: done.usage)
            }
            let assistant = ChatMessage(role: "assistant", content: Self.content(of: turn), toolCalls: turn.toolCalls)
            messages.append(assistant)
            done.trace.append(Self.trace(assistant))
            // The calls of one turn run together; their results go back in the order the model asked.
            let results = await withTaskGroup(of: (Int, ToolBox.Result, Int).self) { group in
                for (index, call) in turn.toolCalls.enumerated() {
                    group.addTask {
                        let started = Date()
                        let result = await tools.run(call)
                        return (index, result, Int(Date().timeIntervalSince(started) * 1000))
                    }
                }
                var results: [(Int, ToolBox.Result, Int)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }
            }
            for (index, result, milliseconds) in results {
                let call = turn.toolCalls[index]
                done.toolLatencyMS[call.name, default: 0] += milliseconds
                let output: String
                switch result {
                case .output(let text, let chunks):
                    output = text
                    done.retrieved += chunks
                case .error(let text):
                    output = text
                    done.toolErrors += 1
                case .delegated(let run):
                    output = run.output
                    // What the task's searches found counts as the caller's retrieval (hit@k, MRR).
                    done.retrieved += run.record["retrieved"]?.arrayValue ?? []
                    done.usage += run.usage
                    done.attempts += run.attempts
                    done.calls += run.calls
                    if run.failed { done.toolErrors += 1 }
                    var record = run.record.objectValue ?? JSONObject()
                    record["tool_call_id"] = .string(call.id)
                    done.subTaskRuns.append(.object(record))
                case .fatal(let reason):
                    return .failed(reason: reason, attempts: done.attempts, usage: done.usage)
                case .stopped(let stop):
                    throw stop
                }
                let message = ChatMessage.tool(output, callID: call.id)
                messages.append(message)
                done.trace.append(Self.trace(message))
            }
        }
        return .failed(
            reason: "no final answer after \(maxTurns) model turns (max_turns)", attempts: done.attempts,
            usage: done.usage)
    }

    /// A tool turn's own text: the decoder puts a lone call's arguments in `text` (structured output through
    /// function calling), which is not what the model said.
    static func content(of choice: ChatChoice) -> String {
        choice.toolCalls.first.map { $0.arguments == choice.text } == true ? "" : choice.text
    }

    /// A message as Kiln's trace stores it (OpenAI's shape).
    static func trace(_ message: ChatMessage) -> JSONValue {
        var object = JSONObject([("role", .string(message.role))])
        if !message.toolCalls.isEmpty {
            object["content"] = message.content.isEmpty ? .null : .string(message.content)
            object["tool_calls"] = .array(message.toolCalls.map(\.json))
        } else {
            object["content"] = .string(message.content)
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }

    /// A tool turn as checkpointed: its text and calls.
    static func json(of choice: ChatChoice) -> JSONValue {
        .object(
            JSONObject([
                ("content", .string(content(of: choice))), ("tool_calls", .array(choice.toolCalls.map(\.json))),
            ]))
    }

    static func choice(from json: JSONValue) -> ChatChoice? {
        guard let calls = json["tool_calls"]?.arrayValue, !calls.isEmpty else { return nil }
        return ChatChoice(
            text: json["content"]?.stringValue ?? "",
            toolCalls: calls.map { call in
                ToolCall(
                    id: call["id"]?.stringValue ?? "", name: call["function"]?["name"]?.stringValue ?? "",
                    arguments: call["function"]?["arguments"]?.stringValue ?? "{}")
            })
    }
}
