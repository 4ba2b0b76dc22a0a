import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnStore

/// `export`: fine-tune files in Kiln's formats, one per split part (or one file when items have no split),
/// written as they stream in to `.partial` files renamed at the end. A file kiln-pipe did not write (or that was
/// edited since) is never overwritten without `--force`.
struct ExportStage {
    let stageID: String
    let settings: ExportSettings
    let task: TaskDefinition?
    let store: any CheckpointStore
    let baseDirectory: String
    let force: Bool
    /// Planning: files go to this folder instead, and nothing is checked or recorded.
    var redirect: String? = nil

    /// Together wants structured tasks told to answer only JSON.
    static let togetherJSONSuffix = "\n\nReturn only JSON. Do not include any non JSON text.\n"

    var format: ExportFormat {
        settings.format ?? settings.target?.defaultFormat(structuredTask: task?.outputSchema != nil) ?? .openAIChat
    }

    var systemMessage: String {
        var message = settings.systemMessage ?? task.map(TaskPrompt.systemMessage) ?? ""
        if settings.target == .together, task?.outputSchema != nil { message += Self.togetherJSONSuffix }
        return message
    }

    var thinkingInstructions: String? {
        TrainingChat.thinkingInstructions(
            strategy: settings.strategy, custom: settings.thinkingInstructions, task: task?.thinkingInstruction)
    }

    /// Where a part goes: `out` itself for items without a split, else `out/<part>.jsonl`.
    func path(for part: String?) -> String {
        if let redirect { return URL(fileURLWithPath: redirect).appendingPathComponent("\(part ?? "all").jsonl").path }
        let out = settings.out ?? "export"
        let base = out.hasPrefix("/") ? out : URL(fileURLWithPath: baseDirectory).appendingPathComponent(out).path
        guard let part else { return base.hasSuffix(".jsonl") ? base : base + ".jsonl" }
        return URL(fileURLWithPath: base).appendingPathComponent("\(part).jsonl").path
    }

    /// The example Kiln would take from an item: its input, its final answer, its thinking.
    static func example(from item: PipelineItem) -> TrainingExample {
        func text(_ value: JSONValue?) -> String {
            guard let value else { return "" }
            return value.stringValue ?? PythonJSON.dumps(value)
        }
        let thinking = item.fields["reasoning"]?.stringValue ?? item.fields["chain_of_thought"]?.stringValue
        return TrainingExample(input: text(item.fields["input"]), final: text(item.fields["output"]), thinking: thinking)
    }

    func storeKey(for path: String) -> String { "export:" + path }

    /// Refuses to replace a file kiln-pipe did not write, unless forced.
    func checkOverwrite(_ path: String) async throws {
        guard !force, redirect == nil, let current = SHA256.hex(ofFileAt: path) else { return }
        let key = storeKey(for: path)
        let recorded = try await store.records(forKeys: [key])[key]?.item?["sha256"]?.stringValue
        if recorded != current {
            throw RunSetupError(
                "\(path) exists and was not written by kiln-pipe (or was edited since)",
                hint: "move it away, choose another out:, or rerun with --force to replace it")
        }
    }

    func recordWritten(_ path: String) async throws {
        guard redirect == nil else { return }
        try await store.write([
            CheckpointRecord(
                key: storeKey(for: path), stage: "_exports", status: .done,
                item: .object(JSONObject([("sha256", .string(SHA256.hex(ofFileAt: path) ?? ""))])))
        ])
    }
}
