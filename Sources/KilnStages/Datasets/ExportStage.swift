import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnStore

/// `export`: fine-tune files in Kiln's formats, one per split part (or one file when items have no split),
/// written as they stream in to `.partial` files renamed at the end. A file kiln-pipe did not write (or that was
/// edited since) is never overwritten without `--force`.
struct ExportStage: Sendable {
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
        return TrainingExample(
            input: text(item.fields["input"]), final: text(item.fields["output"]), thinking: thinking)
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

extension ExportStage: Stage {
    /// Streams each item into the file of its split part (`.partial` until the end) and, with `kiln_project:`,
    /// into the Kiln project as a task run.
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        var writers: [String: (path: String, writer: JSONLinesWriter)] = [:]
        var counts: [String: Int] = [:]
        var order: [String] = []
        // The same for every item: computed once.
        let (format, system, instructions) = (format, systemMessage, thinkingInstructions)
        // `kiln_project:` writes task runs into a Kiln project; files too when `out:` is given.
        var project = try settings.kilnProject.flatMap { path -> KilnProjectWriter? in
            run.options.dryRun
                ? nil
                : try KilnProjectWriter(
                    projectFile: path.hasPrefix("/") ? path : baseDirectory + "/" + path, pipeline: run.pipeline,
                    stageID: stageID, judge: run.pipeline.nearestJudge(above: run.spec))
        }
        let writesFiles = settings.out != nil || settings.kilnProject == nil
        do {
            for channel in run.inputs {
                while let item = await channel.receive() {
                    let part = item.fields["split"]?.stringValue
                    if let part, !settings.parts.isEmpty, !settings.parts.contains(part) { continue }
                    let name = part ?? ""
                    try project?.write(item)
                    guard writesFiles else {
                        counts[name, default: 0] += 1
                        if counts[name] == 1 { order.append(name) }
                        report.items += 1
                        report.computed += 1
                        continue
                    }
                    let line: String
                    do {
                        line = try ExportFormatter.line(
                            for: Self.example(from: item), format: format, system: system,
                            strategy: settings.strategy, thinkingInstructions: instructions)
                    } catch {
                        report.failed += 1
                        report.note("\(item.id): \(error.message)")
                        continue
                    }
                    if writers[name] == nil {
                        let path = path(for: part)
                        try await checkOverwrite(path)
                        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
                        try Folder.create(
                            folder, as: "the export folder", hint: "choose a writable out: for stage '\(stageID)'")
                        writers[name] = (path, try JSONLinesWriter(path: path))
                        order.append(name)
                    }
                    try writers[name]?.writer.write(line: line)
                    counts[name, default: 0] += 1
                    report.items += 1
                    report.computed += 1
                }
            }
        } catch {
            // Nothing partial under a final name: the files of a stage that did not finish are dropped.
            for (_, writer) in writers.values { writer.discard() }
            throw error
        }
        if let project {
            let upstream = run.spec.from.first.flatMap { run.pipeline.stage(withID: $0) }
            var split: SplitSettings?
            if case .split(let settings) = upstream?.settings { split = settings }
            let splitFile = try project.finish(split: split)
            let runs = project.written.values.reduce(0) { $0 + $1.count }
            let evalRuns = project.evalRuns > 0 ? " and \(project.evalRuns) eval runs" : ""
            let skipped = project.skipped > 0 ? "; \(project.skipped) items without an output skipped" : ""
            report.note(
                "wrote \(runs) task runs\(evalRuns) to \(project.taskDirectory.path)"
                    + (splitFile.map { " and the dataset split \($0)" } ?? "") + skipped)
        }
        for name in order {
            guard let (path, writer) = writers[name] else { continue }
            try writer.close()
            try await recordWritten(path)
            report.files.append(path)
            report.note("wrote \(counts[name] ?? 0) examples to \(path)")
        }
        report.parts = order.map { ($0.isEmpty ? "all" : $0, counts[$0] ?? 0) }
        return nil
    }
}

extension Pipeline {
    /// The closest judge stage upstream of `stage` (its scores are what the items carry).
    func nearestJudge(above stage: StageSpec) -> (id: String, settings: JudgeSettings)? {
        var frontier = stage.from
        var seen = Set<String>()
        while !frontier.isEmpty {
            let id = frontier.removeFirst()
            guard seen.insert(id).inserted, let upstream = self.stage(withID: id) else { continue }
            if case .judge(let settings) = upstream.settings { return (upstream.id, settings) }
            frontier += upstream.from
        }
        return nil
    }
}
