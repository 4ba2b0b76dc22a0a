package import Foundation
import KilnBasics
import KilnExport
package import KilnModel

/// Writes a pipeline's results into a Kiln project folder: each exported item as a TaskRun under the task (the
/// pipeline's own Kiln task, or a task created for an inline one), and the split as a DatasetSplit. Files are
/// written whole and renamed into place; writing the same items again rewrites the same files.
package struct KilnProjectWriter {
    package let projectDirectory: URL
    package let taskDirectory: URL
    package let taskID: String
    let pipeline: Pipeline
    let stageID: String
    let stamp: KilnProjectRecords.Stamp
    /// The judge stage whose scores the items carry, if any: its results become a Kiln eval.
    let judge: (id: String, settings: JudgeSettings)?
    package private(set) var written: [String: [String]] = [:]
    package private(set) var skipped = 0
    package private(set) var evalRuns = 0
    private var runConfigs: [String: String] = [:]
    private var evalConfigFolder: URL?

    /// Finds the task in the project (or creates it for an inline task).
    package init(
        projectFile: String, pipeline: Pipeline, stageID: String, judge: (id: String, settings: JudgeSettings)?
    ) throws {
        self.judge = judge
        let project = try KilnProjectFolder(projectFile: projectFile)
        projectDirectory = project.directory
        self.pipeline = pipeline
        self.stageID = stageID
        let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "kiln-pipe"
        stamp = KilnProjectRecords.Stamp(createdAt: KilnProjectRecords.timestamp(Date()), createdBy: user)
        guard let task = pipeline.task else {
            throw ActionableError("stage '\(stageID)' writes Kiln task runs and needs a task")
        }
        if case .kilnProject(let path, let id) = task.origin,
            URL(fileURLWithPath: path).standardizedFileURL.path == project.projectFile.path
        {
            taskID = id
            taskDirectory = try project.task(id: id).url
        } else {
            let name = task.name ?? pipeline.name
            let id = KilnProjectRecords.id(for: "task/\(pipeline.name)/\(task.instruction)")
            taskID = id
            taskDirectory =
                try project.tasks().first { $0.id == id }?.url
                ?? project.tasksFolder.appendingPathComponent(KilnProjectRecords.folderName(id: id, name: name))
            let file = taskDirectory.appendingPathComponent("task.kiln")
            if !FileManager.default.fileExists(atPath: file.path) {
                try Self.write(KilnProjectRecords.task(id: id, name: name, definition: task, stamp: stamp), to: file)
            }
        }
    }

    /// Writes one item as a task run; items with no output are counted and skipped.
    package mutating func write(_ item: PipelineItem) throws {
        guard let output = item.fields["output"], output != .null else {
            skipped += 1
            return
        }
        let id = KilnProjectRecords.id(for: "run/\(taskID)/\(item.id)")
        let provenance = item.fields["provenance"]
        let providerName = provenance?["provider"]?.stringValue ?? item.fields["model"]?.stringValue
        let config = providerName.flatMap { pipeline.provider(named: $0) }
        let source = KilnProjectRecords.Source(
            model: provenance?["model"]?.stringValue ?? config?.model ?? "unknown", provider: Self.kilnProvider(config))
        var intermediate: [(String, String)] = []
        if let thinking = item.fields["reasoning"]?.stringValue {
            // A prompted chain of thought is Kiln's `chain_of_thought`; a reasoning model's own is `reasoning`.
            intermediate.append((provenance?["thinking"] == .bool(true) ? "chain_of_thought" : "reasoning", thinking))
        }
        if let chain = item.fields["chain_of_thought"]?.stringValue,
            !intermediate.contains(where: { $0.0 == "chain_of_thought" })
        {
            intermediate.append(("chain_of_thought", chain))
        }
        let usage = provenance?["input_tokens"]?.numberValue.map { input in
            KilnProjectRecords.RunUsage(
                inputTokens: Int(input), outputTokens: Int(provenance?["output_tokens"]?.numberValue ?? 0),
                cost: provenance?["cost_usd"]?.numberValue ?? 0,
                latencyMS: provenance?["latency_ms"]?.numberValue.map { Int($0) })
        }
        let text = { (value: JSONValue) in value.stringValue ?? PythonJSON.dumps(value) }
        let file = taskDirectory.appendingPathComponent("runs/\(id)/task_run.kiln")
        let record = KilnProjectRecords.taskRun(
            id: id, input: text(item.fields["input"] ?? .string("")), output: text(output), source: source,
            intermediate: intermediate, usage: usage, tags: ["kiln_pipe"], stamp: Self.keptStamp(of: file) ?? stamp)
        try Self.write(record, to: file)
        written[item.fields["split"]?.stringValue ?? "", default: []].append(id)
        if let judge, let scores = item.fields["scores"]?.objectValue, scores.count > 0 {
            try writeEvalRun(
                scores: scores, runID: id, item: item, input: text(item.fields["input"] ?? .string("")),
                output: text(output),
                config: config, source: source, judge: judge)
        }
    }

    /// Writes a judged item as an eval run of the judge stage's eval, with the run config of the model it judged.
    private mutating func writeEvalRun(
        scores: JSONObject, runID: String, item: PipelineItem, input: String, output: String, config: ProviderConfig?,
        source: KilnProjectRecords.Source, judge: (id: String, settings: JudgeSettings)
    ) throws {
        let providerName = config?.name ?? source.model
        if runConfigs[providerName] == nil {
            let id = KilnProjectRecords.id(for: "run_config/\(taskID)/\(providerName)")
            let file = taskDirectory.appendingPathComponent("run_configs")
                .appendingPathComponent(KilnProjectRecords.folderName(id: id, name: providerName))
                .appendingPathComponent("task_run_config.kiln")
            try Self.write(
                KilnProjectRecords.taskRunConfig(
                    id: id, name: providerName, source: source, temperature: config?.params.temperature ?? 1,
                    topP: config?.params.topP ?? 1,
                    structuredOutput: config?.structuredOutput?.rawValue ?? "json_schema",
                    stamp: Self.keptStamp(of: file) ?? stamp),
                to: file)
            runConfigs[providerName] = id
        }
        let folder = try evalConfigFolder ?? writeEval(scores: scores, judge: judge)
        evalConfigFolder = folder
        let runs = folder.appendingPathComponent("runs")
        let evalRunID = KilnProjectRecords.id(for: "eval_run/\(judge.id)/\(runID)")
        let file = runs.appendingPathComponent("\(evalRunID)/eval_run.kiln")
        let values = scores.compactMap { entry in entry.value.numberValue.map { (entry.key, $0) } }
        try Self.write(
            KilnProjectRecords.evalRun(
                id: evalRunID, datasetID: runID, taskRunConfigID: runConfigs[providerName] ?? "", input: input,
                output: output,
                scores: values, reasoning: item.fields["judge"]?["reasoning"]?.stringValue,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        evalRuns += 1
    }

    /// The eval and its judge config, from the first judged item's score names; returns the config's folder.
    private func writeEval(scores: JSONObject, judge: (id: String, settings: JudgeSettings)) throws -> URL {
        let requirements = judge.settings.rubric.isEmpty ? (pipeline.task?.requirements ?? []) : judge.settings.rubric
        let types = Dictionary(requirements.map { ($0.name, $0.type.rawValue) }) { first, _ in first }
        let outputScores = scores.map { entry -> (name: String, type: String) in
            if entry.key == "overall" { return (entry.key, judge.settings.score.rawValue) }
            return (entry.key, types[entry.key] ?? "pass_fail")  // assertions pass (1) or fail (0)
        }
        let evalID = KilnProjectRecords.id(for: "eval/\(taskID)/\(judge.id)")
        let configID = KilnProjectRecords.id(for: "eval_config/\(evalID)")
        let evalFolder = taskDirectory.appendingPathComponent("evals").appendingPathComponent(
            KilnProjectRecords.folderName(id: evalID, name: judge.id))
        let judgeConfig = judge.settings.provider.flatMap { pipeline.provider(named: $0) }
        let source = KilnProjectRecords.Source(
            model: judgeConfig?.model ?? "assertions", provider: Self.kilnProvider(judgeConfig))
        let configName = "\(judge.settings.provider ?? "assertions") \(judgeConfig?.model ?? "")"
        let configFolder = evalFolder.appendingPathComponent("configs").appendingPathComponent(
            KilnProjectRecords.folderName(id: configID, name: configName))
        let evalFile = evalFolder.appendingPathComponent("eval.kiln")
        try Self.write(
            KilnProjectRecords.eval(
                id: evalID, name: judge.id, configID: configID, outputScores: outputScores,
                stamp: Self.keptStamp(of: evalFile) ?? stamp),
            to: evalFile)
        let configFile = configFolder.appendingPathComponent("eval_config.kiln")
        try Self.write(
            KilnProjectRecords.evalConfig(
                id: configID, name: configName, source: source, method: judge.settings.method.rawValue,
                steps: requirements.map(\.instruction), stamp: Self.keptStamp(of: configFile) ?? stamp),
            to: configFile)
        return configFolder
    }

    /// Writes the dataset split of the parts written, when the items came through a split stage.
    package func finish(split: SplitSettings?) throws -> String? {
        guard let split, !written.isEmpty else { return nil }
        let name = "\(pipeline.name) \(stageID)"
        let id = KilnProjectRecords.id(for: "split/\(taskID)/\(name)")
        let folder = taskDirectory.appendingPathComponent("dataset_splits").appendingPathComponent(
            KilnProjectRecords.folderName(id: id, name: name))
        let file = folder.appendingPathComponent("dataset_split.kiln")
        try Self.write(
            KilnProjectRecords.datasetSplit(
                id: id, name: name, parts: split.parts, contents: written, filter: split.filter.description,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        return file.path
    }

    /// Kiln's name for where a model ran.
    static func kilnProvider(_ config: ProviderConfig?) -> String {
        config.map { ProviderKeyDefaults.kilnProviderName(kind: $0.kind, baseURL: $0.baseURL) } ?? "openai_compatible"
    }

    /// An existing record's creation stamp: rewriting a run keeps when it was first written.
    static func keptStamp(of file: URL) -> KilnProjectRecords.Stamp? {
        guard let data = FileManager.default.contents(atPath: file.path),
            let json = try? JSONValue(parsing: String(decoding: data, as: UTF8.self)),
            let createdAt = json["created_at"]?.stringValue, let createdBy = json["created_by"]?.stringValue
        else { return nil }
        return KilnProjectRecords.Stamp(createdAt: createdAt, createdBy: createdBy)
    }

    static func write(_ record: JSONValue, to file: URL) throws {
        try Folder.create(file.deletingLastPathComponent().path)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).partial")
        try Data(KilnFileJSON.dumps(record).utf8).write(to: temporary)
        _ = try? FileManager.default.removeItem(at: file)
        try FileManager.default.moveItem(at: temporary, to: file)
    }
}
