import Foundation
import KilnBasics
import KilnExport
package import KilnModel
import KilnProject
package import KilnStore

/// The fine-tune files of one export, in Kiln's formats: one per split part (or one file when the items have no
/// split), written as items stream in to `.partial` files renamed at the end. A file kiln-pipe did not write (or
/// that was edited since) is never replaced without `force`. The `export` stage and `kiln-pipe export` both write
/// through this, so they share the format rules, the paths and the overwrite policy.
package struct ExportFiles {
    let settings: ExportSettings
    let task: TaskDefinition?
    /// Remembers the hash of every file written, so a rerun may replace its own files and nothing else.
    let store: any CheckpointStore
    /// Relative `out:` paths start here.
    let baseDirectory: String
    let force: Bool
    /// Planning: files go to this folder instead, and nothing is checked or recorded.
    var redirect: String?
    /// Names the setting to change in messages (`out: for stage 'x'`, `--out`).
    let outSetting: String
    // The same for every item: computed once.
    let format: ExportFormat
    let systemMessage: String
    let thinkingInstructions: String?
    private var writers: [String: (path: String, writer: JSONLinesWriter)] = [:]
    /// Items written per part, in the order the parts first came.
    package private(set) var counts = PartCounts()

    /// Together wants structured tasks told to answer only JSON.
    static let togetherJSONSuffix = "\n\nReturn only JSON. Do not include any non JSON text.\n"

    package init(
        settings: ExportSettings, task: TaskDefinition?, store: any CheckpointStore, baseDirectory: String,
        force: Bool, outSetting: String, redirect: String? = nil
    ) {
        self.settings = settings
        self.task = task
        self.store = store
        self.baseDirectory = baseDirectory
        self.force = force
        self.outSetting = outSetting
        self.redirect = redirect
        format =
            settings.format ?? settings.target?.defaultFormat(structuredTask: task?.outputSchema != nil) ?? .openAIChat
        var system = settings.systemMessage ?? task.map(TaskPrompt.systemMessage) ?? ""
        if settings.target == .together, task?.outputSchema != nil { system += Self.togetherJSONSuffix }
        systemMessage = system
        thinkingInstructions = TrainingChat.thinkingInstructions(
            strategy: settings.strategy, custom: settings.thinkingInstructions, task: task?.thinkingInstruction)
    }

    /// Where a part goes: `out` itself for items without a split (`.jsonl` added), else `out/<part>.jsonl`.
    package func path(for part: String?) -> String {
        if let redirect { return URL(fileURLWithPath: redirect).appendingPathComponent("\(part ?? "all").jsonl").path }
        let out = settings.out ?? "export"
        let base = out.hasPrefix("/") ? out : URL(fileURLWithPath: baseDirectory).appendingPathComponent(out).path
        guard let part else { return base.hasSuffix(".jsonl") ? base : base + ".jsonl" }
        return URL(fileURLWithPath: base).appendingPathComponent("\(part).jsonl").path
    }

    /// The example Kiln would take from an item: its input, its final answer, its thinking, and (for a run read
    /// from a Kiln project) its trace and the definitions of the tools it could call.
    static func example(from item: PipelineItem) throws(ExportError) -> TrainingExample {
        func text(_ value: JSONValue?) -> String {
            guard let value, value != .null else { return "" }
            return value.stringValue ?? PythonJSON.dumps(value)
        }
        let thinking = item.fields["reasoning"]?.stringValue ?? item.fields["chain_of_thought"]?.stringValue
        let tools = item.fields["tool_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // An agent's MCP tools carry their definitions (as their server listed them); Kiln's are known by id.
        var definitions = item.fields["tool_definitions"]?.arrayValue ?? []
        if definitions.isEmpty { definitions = try KilnToolDefinitions.definitions(for: tools) }
        return TrainingExample(
            input: text(item.fields["input"]), final: text(item.fields["output"]), thinking: thinking,
            trace: item.fields["trace"], tools: definitions)
    }

    /// Writes an item into its part's file (its `split` field); returns why it could not be formatted, if it could
    /// not (the item is then left out). Throws when a file cannot be written or may not be replaced.
    package mutating func write(_ item: PipelineItem) async throws -> String? {
        let line: String
        do {
            line = try ExportFormatter.line(
                for: try Self.example(from: item), format: format, system: systemMessage, strategy: settings.strategy,
                thinkingInstructions: thinkingInstructions)
        } catch {
            return error.message
        }
        let part = item.fields["split"]?.stringValue
        let name = part ?? ""
        if writers[name] == nil {
            let path = path(for: part)
            try await checkOverwrite(path)
            try Folder.create(
                URL(fileURLWithPath: path).deletingLastPathComponent().path, as: "the export folder",
                hint: "choose a writable \(outSetting)")
            writers[name] = (path, try JSONLinesWriter(path: path))
        }
        try writers[name]?.writer.write(line: line)
        counts.add(name)
        return nil
    }

    /// Renames every file to its final name and records its hash; returns each path with its example count.
    package func finish() async throws -> [(path: String, count: Int)] {
        var written: [(String, Int)] = []
        for (name, count) in counts.parts {
            guard let (path, writer) = writers[name] else { continue }
            try writer.close()
            try await recordWritten(path)
            written.append((path, count))
        }
        return written
    }

    /// Drops every `.partial` file: nothing partial is left under a final name.
    package func discard() {
        for (_, writer) in writers.values { writer.discard() }
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
                hint: "move it away, choose another \(outSetting), or rerun with --force to replace it")
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
