import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnProviders
import KilnStore

/// A task of the pipeline run as a tool (Kiln's `kiln_task::` tool, a sub-agent): the calling model sends the
/// task's input (its input schema's fields, or one `input` string), the task runs on its own model with its own
/// prompt and tools — every turn through the limiter, retries, budget and journal like the caller's — and its
/// output goes back as the tool's result. A finished run is checkpointed under the task and its input, so a rerun
/// (or a second call with the same input) pays nothing again.
struct SubAgent: Sendable {
    let spec: SubTaskSpec
    /// Its own tools (an empty box without `tools:`).
    let tools: ToolBox
    /// The task's cache identity (`ToolFingerprint.key(of:)`).
    let fingerprint: String
    let pool: ProviderPool?
    let executor: CallExecutor?
    let store: any CheckpointStore
    let stageID: String
    let fresh: Bool
    let place: String

    /// A run of the task: what goes back to the calling model, and what the item keeps of it.
    struct Run: Sendable, Equatable {
        /// The task's output as Kiln hands it back (structured output as JSON text).
        var output: String
        /// Whether the task failed (its reason is the output, sent back as the tool's error).
        var failed: Bool
        /// The run as the item keeps it: task, model, input, output, trace, tool counts.
        var record: JSONValue
        /// What this run paid now (nothing when it came from the store).
        var usage: Usage
        var attempts: Int
        var calls: [RecordedCall]
    }

    /// Kiln's definition of the tool: the task's name, description and input parameters.
    var definition: JSONValue {
        KilnToolDefinitions.function(name: spec.name, description: spec.description, parameters: spec.parameters)
    }

    /// Runs the task on a call's arguments; arguments that are not its input go back to the model as an error.
    func run(_ call: ToolCall) async throws(RunStop) -> ToolBox.Result {
        guard let arguments = try? JSONValue(parsing: call.arguments), arguments.objectValue != nil else {
            return .error("Error: the arguments of '\(call.name)' are not a JSON object: \(call.arguments)")
        }
        let input: JSONValue
        if let schema = spec.task.inputSchema {
            let violations = JSONSchemaValidator.violations(of: arguments, against: schema)
            guard violations.isEmpty else {
                return .error(
                    "Error: the arguments of '\(call.name)' do not match the task's input schema: "
                        + violations.joined(separator: "; "))
            }
            input = arguments
        } else {
            guard let text = arguments["input"]?.stringValue else {
                return .error("Error: '\(call.name)' takes an 'input' string (arguments: \(call.arguments))")
            }
            input = .string(text)
        }
        let key = CheckpointKey.make(JSONObject([("sub_task", .string(fingerprint)), ("input", input)]))
        if !fresh, let record = try? await store.records(forKeys: [key])[key], record.status == .done,
            let saved = record.item, let output = saved["output"]?.stringValue
        {
            return .delegated(Run(output: output, failed: false, record: saved, usage: Usage(), attempts: 0, calls: []))
        }
        guard let executor, let entry = pool?[spec.model] else {
            return .fatal("task '\(spec.name)': its provider '\(spec.model)' is not available")
        }
        let loop = ToolLoop(
            tools: tools, maxToolCalls: spec.tools.maxToolCalls, maxTurns: spec.tools.maxTurns, executor: executor,
            entry: entry, store: store, stageID: stageID, fresh: fresh, place: place)
        let schema = spec.task.outputSchema
        let messages: [ChatMessage] = [
            .system(TaskPrompt.systemMessage(for: spec.task)), .user(TaskPrompt.userMessage(for: input)),
        ]
        switch try await loop.run(
            messages, params: ModelParams(), structured: schema.map { StructuredOutputSpec(schema: $0) },
            validateFinal: {
                AnswerValidation.validate($0.choices[0].text, schema: schema, finishReason: $0.choices[0].finishReason)
            })
        {
        case .answered(let conversation):
            let output = conversation.value.stringValue ?? PythonJSON.dumps(conversation.value)
            var record = JSONObject([
                ("task", .string(spec.name)), ("model", .string(spec.model)), ("input", input),
                ("output", .string(output)), ("trace", .array(conversation.trace)),
            ])
            if !spec.tools.isEmpty {
                record["tool_ids"] = .array(conversation.offer.ids.map(JSONValue.string))
                record["tool_calls"] = .integer(conversation.toolCalls)
                record["tool_errors"] = .integer(conversation.toolErrors)
            }
            if !conversation.retrieved.isEmpty { record["retrieved"] = .array(conversation.retrieved) }
            if !conversation.subTaskRuns.isEmpty { record["sub_task_runs"] = .array(conversation.subTaskRuns) }
            record["usage"] = .object(
                JSONObject([
                    ("input_tokens", .integer(conversation.usage.inputTokens)),
                    ("output_tokens", .integer(conversation.usage.outputTokens)),
                    ("cost_usd", .double(conversation.usage.costUSD)),
                ]))
            try? await store.checkpoint(
                CheckpointRecord(
                    key: key, stage: stageID + "#tasks", status: .done, item: .object(record),
                    usage: conversation.usage, latencyMS: conversation.latencyMS, attempts: conversation.attempts,
                    calls: conversation.calls))
            return .delegated(
                Run(
                    output: output, failed: false, record: .object(record), usage: conversation.usage,
                    attempts: conversation.attempts, calls: conversation.calls))
        case .failed(let reason, let attempts, let usage):
            // As any failing tool: the error goes back to the calling model, which may try otherwise.
            let record = JSONObject([
                ("task", .string(spec.name)), ("model", .string(spec.model)), ("input", input),
                ("error", .string(reason)),
            ])
            return .delegated(
                Run(
                    output: "Error: the task '\(spec.name)' failed: \(reason)", failed: true, record: .object(record),
                    usage: usage, attempts: attempts, calls: []))
        }
    }
}
