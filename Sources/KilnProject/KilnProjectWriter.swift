package import Foundation
import KilnBasics
import KilnExport
package import KilnModel

#if canImport(Glibc)
import Glibc
#endif

/// Writes a pipeline's results into a Kiln project folder (starting the project when the folder has none): each
/// exported item as a TaskRun under the task (the pipeline's own Kiln task, or a task created for an inline one),
/// the model settings as run configs Kiln can run, a judge's results as an eval, and the split as a DatasetSplit.
///
/// Writing is idempotent and never clobbers: files are written whole and renamed into place, ids follow from
/// content, a rerun merges into kiln-pipe's own runs (`KilnMerge`: what a person did in Kiln stays), a run a
/// person reviewed is never changed (a changed result becomes a new run), and a changed judge is a new eval config
/// beside the old one, whose runs stay valid.
package struct KilnProjectWriter {
    package let projectDirectory: URL
    package let taskDirectory: URL
    package let taskID: String
    /// Whether this writer started the project (the folder had no project.kiln).
    package let startedProject: Bool
    let pipeline: Pipeline
    let stageID: String
    let stamp: KilnProjectRecords.Stamp
    /// The judge stage whose scores the items carry, if any: its results become a Kiln eval.
    let judge: (id: String, settings: JudgeSettings)?
    /// The stage the items' inputs came from (a `load` or `inputs` stage), for each run's `input_source`.
    let inputOrigin: StageSpec?
    /// Run ids written, by split part, each once.
    package private(set) var written: [String: [String]] = [:]
    private var writtenIDs: Set<String> = []
    package private(set) var skipped = 0
    package private(set) var evalRuns = 0
    /// Runs a person rated or repaired whose result changed: left as they were, the result written as a new run.
    package private(set) var keptReviewed = 0
    /// Run config ids by provider name.
    private var runConfigs: [String: String] = [:]
    /// MCP servers written as Kiln external tool servers, by name.
    private var toolServers: Set<String> = []
    /// The judge's eval config (its folder and id), written with the first judged item.
    private var evalConfig: (folder: URL, id: String)?
    private let project: KilnProjectFolder
    /// The project's id (in the `kiln_task_tool_data` that links a tool call to the task run it made).
    private let projectID: String
    /// Tasks offered as tools, placed in the project, by name: the task's id and folder, and the run config (and its
    /// settings) their runs were made with.
    private var subTaskPlaces: [String: SubTaskPlace] = [:]

    private struct SubTaskPlace {
        var id: String
        var directory: URL
        var runConfigID: String
        var settings: KilnProjectRecords.RunSettings
    }

    /// Opens the project (folder or project.kiln; started when missing) and finds or creates the task.
    package init(projectFile: String, pipeline: Pipeline, stage: StageSpec) throws {
        let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "kiln-pipe"
        stamp = KilnProjectRecords.Stamp(createdAt: KilnProjectRecords.timestamp(Date()), createdBy: user)
        let file = URL(fileURLWithPath: KilnProjectFolder.projectFile(at: projectFile))
        startedProject = !FileManager.default.fileExists(atPath: file.path)
        if startedProject {
            try Self.write(
                KilnProjectRecords.project(
                    id: KilnProjectRecords.id(for: "project/\(pipeline.name)"), name: pipeline.name, stamp: stamp),
                to: file)
        }
        let project = try KilnProjectFolder(projectFile: file.path, displayPath: projectFile)
        self.project = project
        projectID = (try? KilnProjectFolder.readJSON(project.projectFile, what: "project"))?["id"]?.stringValue ?? ""
        projectDirectory = project.directory
        self.pipeline = pipeline
        stageID = stage.id
        let judgeStage = pipeline.nearestStage(above: stage) { if case .judge = $0.settings { true } else { false } }
        if let judgeStage, case .judge(let settings) = judgeStage.settings {
            judge = (judgeStage.id, settings)
        } else {
            judge = nil
        }
        inputOrigin = pipeline.nearestStage(above: stage) {
            switch $0.settings {
            case .load, .inputs: true
            default: false
            }
        }
        guard let task = pipeline.task else {
            throw ActionableError("stage '\(stage.id)' writes Kiln task runs and needs a task")
        }
        (taskID, taskDirectory) = try Self.place(
            task, name: task.name ?? pipeline.name, pipeline: pipeline.name, in: project, stamp: stamp)
    }

    /// Finds or creates the task of an inline definition: the task of its name in the pipeline, so a changed prompt
    /// updates it (earlier kiln-pipe versions keyed it by the instruction; such a task is found and kept too). A
    /// task of this project is itself.
    private static func place(
        _ task: TaskDefinition, name: String, pipeline: String, in project: KilnProjectFolder,
        stamp: KilnProjectRecords.Stamp
    ) throws -> (id: String, directory: URL) {
        if case .kilnProject(let path, let id) = task.origin,
            URL(fileURLWithPath: KilnProjectFolder.projectFile(at: path)).standardizedFileURL.path
                == project.projectFile.path
        {
            return (id, try project.task(id: id).url)
        }
        let id = KilnProjectRecords.id(for: "task/\(pipeline)/name/\(name)")
        let legacy = KilnProjectRecords.id(for: "task/\(pipeline)/\(task.instruction)")
        let tasks = try project.tasks()
        let existing = tasks.first { $0.id == id } ?? tasks.first { $0.id == legacy }
        let taskID = existing?.id ?? id
        let directory =
            existing?.url ?? project.tasksFolder.appendingPathComponent(KilnNames.folderName(id: id, name: name))
        let fresh = KilnProjectRecords.task(
            id: taskID, name: name, definition: task, stamp: KilnProjectRecords.Stamp(of: existing?.record) ?? stamp)
        let record = existing.map { KilnMerge.mergedTask($0.record, fresh) } ?? fresh
        if record != existing?.record { try write(record, to: directory.appendingPathComponent("task.kiln")) }
        return (taskID, directory)
    }

    /// Writes one item as a task run (merged into the run a rerun finds); items with no output are counted and
    /// skipped.
    package mutating func write(_ item: PipelineItem) throws {
        guard let output = item.fields["output"], output != .null else {
            skipped += 1
            return
        }
        let provenance = item.fields["provenance"]
        let providerName = provenance?["provider"]?.stringValue ?? item.fields["model"]?.stringValue
        let config = providerName.flatMap { pipeline.provider(named: $0) }
        var settings = Self.runSettings(config, model: provenance?["model"]?.stringValue)
        // An agent's run: the tools its model was offered, and the conversation.
        settings.tools = item.fields["tool_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        try writeToolServers(of: settings.tools, stage: provenance?["stage"]?.stringValue)
        var trace = item.fields["trace"].flatMap { $0 == .null ? nil : $0 }
        let runConfigID = try runConfig(
            named: providerName ?? settings.model, settings: settings, taskID: taskID, taskDirectory: taskDirectory)
        if let runs = item.fields["sub_task_runs"]?.arrayValue, let calling = trace {
            trace = try writeSubTaskRuns(runs, of: item.id, into: calling)
        }
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
        let input = text(item.fields["input"] ?? .string(""))
        let source = KilnProjectRecords.dataSource(
            synthetic: settings, runConfigID: runConfigID,
            extra: [("pipeline", pipeline.name), ("stage", provenance?["stage"]?.stringValue ?? "")])
        let inputSource = inputSource(of: item)
        let tags = ["kiln_pipe"] + Self.kilnTags(item.fields["tags"])
        let taskDirectory = self.taskDirectory
        let file = { (id: String) in taskDirectory.appendingPathComponent("runs/\(id)/task_run.kiln") }
        let placement = KilnMerge.place(
            id: KilnProjectRecords.id(for: "run/\(taskID)/\(item.id)"), file: file
        ) { id, existing in
            KilnProjectRecords.taskRun(
                id: id, input: input, inputSource: inputSource, output: text(output), source: source,
                intermediate: intermediate, usage: usage, tags: tags, trace: trace,
                stamp: KilnProjectRecords.Stamp(of: existing) ?? stamp)
        }
        try Self.write(placement.record, to: file(placement.id))
        if placement.keptReviewed { keptReviewed += 1 }
        if writtenIDs.insert(placement.id).inserted {
            written[item.fields["split"]?.stringValue ?? "", default: []].append(placement.id)
        }
        if let judge, let scores = item.fields["scores"]?.objectValue, scores.count > 0 {
            try writeEvalRun(
                scores: scores, runID: placement.id, item: item, input: input, output: text(output),
                runConfigID: runConfigID, judge: judge)
        }
    }

    /// Where an item's input came from: the Kiln run's own source when it was loaded from one, else the stage that
    /// made it (a model of an `inputs` stage, or the file a `load` stage read), with the pipeline and stage.
    private func inputSource(of item: PipelineItem) -> JSONValue {
        if let original = item.fields["input_source"], original != .null { return original }
        let extra = [("pipeline", pipeline.name), ("stage", inputOrigin?.id ?? "")]
        switch inputOrigin?.settings {
        case .inputs(let settings):
            return KilnProjectRecords.dataSource(
                synthetic: Self.runSettings(pipeline.provider(named: settings.provider), model: nil), extra: extra)
        case .load(let settings) where settings.path != nil:
            return KilnProjectRecords.dataSource(synthetic: nil, fileName: settings.path, extra: extra)
        default:
            return KilnProjectRecords.dataSource(
                synthetic: KilnProjectRecords.RunSettings(
                    model: "unknown", provider: "openai_compatible", temperature: 1, topP: 1,
                    structuredOutput: "json_schema"),
                extra: extra)
        }
    }

    /// The run config of a provider's settings, written once per run; its id follows from the settings, so a
    /// changed model or temperature is a new config and the old one (and what points at it) stays.
    private mutating func runConfig(
        named name: String, settings: KilnProjectRecords.RunSettings, taskID: String, taskDirectory: URL
    ) throws -> String {
        let known = taskID + "\u{1F}" + name + "\u{1F}" + settings.tools.joined(separator: ",")
        if let id = runConfigs[known] { return id }
        let id = KilnProjectRecords.id(
            for: "run_config/\(taskID)/\(name)/\(settings.model)/\(settings.provider)/\(settings.temperature)/"
                + "\(settings.topP)/\(settings.structuredOutput)" + (settings.tools.isEmpty ? "" : "/\(settings.tools)")
        )
        let file = taskDirectory.appendingPathComponent("run_configs")
            .appendingPathComponent(KilnNames.folderName(id: id, name: name))
            .appendingPathComponent("task_run_config.kiln")
        try Self.write(
            KilnProjectRecords.taskRunConfig(
                id: id, name: name, settings: settings, stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        runConfigs[known] = id
        return id
    }

    /// The MCP servers whose tools a run was offered, as Kiln external tool servers (their id is the server's name,
    /// as in the runs' tool ids), each once.
    private mutating func writeToolServers(of tools: [String], stage: String?) throws {
        for tool in tools where tool.hasPrefix("kiln_tool::rag::") && toolServers.insert(tool).inserted {
            try writeRagConfig(of: tool, stage: stage)
        }
        for tool in tools {
            guard let prefix = ["mcp::local::", "mcp::remote::"].first(where: tool.hasPrefix),
                let name = tool.dropFirst(prefix.count).components(separatedBy: "::").first,
                toolServers.insert(name).inserted
            else { continue }
            let stages = pipeline.stages.filter { stage == nil || $0.id == stage }
            let server = stages.lazy.compactMap { spec -> MCPServerSpec? in
                guard case .outputs(let settings) = spec.settings else { return nil }
                return settings.tools.allMCPServers.first { $0.name == name }
            }.first
            guard let server else { continue }
            let file = projectDirectory.appendingPathComponent("external_tool_servers")
                .appendingPathComponent(KilnNames.folderName(id: name, name: name))
                .appendingPathComponent("external_tool_server.kiln")
            try Self.write(
                KilnProjectRecords.externalToolServer(
                    id: name, server: server, pipeline: pipeline.name, stamp: Self.keptStamp(of: file) ?? stamp),
                to: file)
        }
    }

    /// The runs of tasks an agent called as tools, each as a run of its task (tagged `tool_call`, its source the
    /// tool call, as Kiln's task tool writes them), the tasks they called in turn likewise; returns the calling
    /// trace with each such call's result linked to its run (`kiln_task_tool_data`), as Kiln links them.
    private mutating func writeSubTaskRuns(
        _ runs: [JSONValue], of owner: String, into trace: JSONValue
    ) throws
        -> JSONValue
    {
        var messages = trace.arrayValue ?? []
        for run in runs {
            guard let name = run["task"]?.stringValue, let output = run["output"]?.stringValue,
                let callID = run["tool_call_id"]?.stringValue,
                let place = try subTask(named: name, offered: Self.toolIDs(of: run))
            else { continue }
            let runID = KilnProjectRecords.id(for: "run/\(place.id)/\(owner)/\(callID)")
            var subTrace = run["trace"] ?? .null
            if let nested = run["sub_task_runs"]?.arrayValue, subTrace != .null {
                subTrace = try writeSubTaskRuns(nested, of: "\(owner)/\(callID)", into: subTrace)
            }
            let settings = place.settings
            let input = run["input"].map { $0.stringValue ?? PythonJSON.dumps($0) } ?? ""
            let usage = run["usage"].map { usage in
                KilnProjectRecords.RunUsage(
                    inputTokens: Int(usage["input_tokens"]?.numberValue ?? 0),
                    outputTokens: Int(usage["output_tokens"]?.numberValue ?? 0),
                    cost: usage["cost_usd"]?.numberValue ?? 0, latencyMS: nil)
            }
            let file = place.directory.appendingPathComponent("runs/\(runID)/task_run.kiln")
            let record = KilnProjectRecords.taskRun(
                id: runID, input: input,
                inputSource: .object(
                    JSONObject([
                        ("type", .string("tool_call")), ("properties", .object(JSONObject())),
                        ("run_config_id", .string(place.runConfigID)), ("run_config", settings.json),
                    ])),
                output: output,
                source: KilnProjectRecords.dataSource(
                    synthetic: settings, runConfigID: place.runConfigID,
                    extra: [("pipeline", pipeline.name), ("stage", stageID)]),
                intermediate: [], usage: usage, tags: ["tool_call", "kiln_pipe"], trace: subTrace,
                stamp: Self.keptStamp(of: file) ?? stamp)
            try Self.write(record, to: file)
            let link = "\(projectID):::kiln_task::\(name):::\(place.id):::\(runID)"
            for index in messages.indices where messages[index]["tool_call_id"]?.stringValue == callID {
                guard var message = messages[index].objectValue, message["role"] == .string("tool") else { continue }
                message["kiln_task_tool_data"] = .string(link)
                messages[index] = .object(message)
            }
        }
        return .array(messages)
    }

    /// The Kiln tool ids a task's run was offered, when it had tools.
    private static func toolIDs(of run: JSONValue) -> [String]? {
        run["tool_ids"]?.arrayValue?.compactMap(\.stringValue)
    }

    /// A task offered as a tool, placed in the project once: the task (its definition as the pipeline has it),
    /// a run config of its model and the tools its first run was offered (else those the pipeline names), and the
    /// `kiln_task` tool server Kiln resolves `kiln_task::<name>` by.
    private mutating func subTask(named name: String, offered: [String]?) throws -> SubTaskPlace? {
        if let known = subTaskPlaces[name] { return known }
        let specs = pipeline.stages.lazy.compactMap { stage -> SubTaskSpec? in
            guard case .outputs(let settings) = stage.settings else { return nil }
            return settings.tools.allSubTasks.first { $0.name == name }
        }
        guard let spec = specs.first else { return nil }
        let (id, directory) = try Self.place(
            spec.task, name: spec.task.name ?? name, pipeline: pipeline.name, in: project, stamp: stamp)
        var settings = Self.runSettings(pipeline.provider(named: spec.model), model: nil)
        settings.tools = offered ?? Self.kilnIDs(of: spec.tools)
        try writeToolServers(of: settings.tools, stage: nil)
        let runConfigID = try runConfig(named: spec.model, settings: settings, taskID: id, taskDirectory: directory)
        let file = projectDirectory.appendingPathComponent("external_tool_servers")
            .appendingPathComponent(KilnNames.folderName(id: name, name: name))
            .appendingPathComponent("external_tool_server.kiln")
        try Self.write(
            KilnProjectRecords.taskToolServer(
                id: name, spec: spec, taskID: id, runConfigID: runConfigID, pipeline: pipeline.name,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        let place = SubTaskPlace(id: id, directory: directory, runConfigID: runConfigID, settings: settings)
        subTaskPlaces[name] = place
        return place
    }

    /// The Kiln tool ids of a task's tools (of an MCP server only those it names: what it lists is known when it
    /// runs).
    private static func kilnIDs(of tools: ToolSettings) -> [String] {
        tools.builtIns + tools.searchTools.map(\.kilnID)
            + tools.mcpServers.flatMap { server in server.tools.map { server.kilnID(of: $0) } }
            + tools.subTasks.map(\.kilnID)
    }

    /// A search tool as Kiln's RAG config (id: the index stage, as in the runs' `kiln_tool::rag::<index>` ids) and
    /// its vector store config, so Kiln describes the tool of the runs that searched (its formatter, its UI). A
    /// search naming a Kiln RAG config (`kiln_rag_config:`) writes nothing: the config must be in this project.
    private func writeRagConfig(of tool: String, stage: String?) throws {
        let searches = pipeline.stages.filter { stage == nil || $0.id == stage }.lazy.compactMap {
            spec -> SearchToolSpec? in
            guard case .outputs(let settings) = spec.settings else { return nil }
            return settings.tools.allSearchTools.first { $0.kilnID == tool }
        }
        guard let search = searches.first else { return }
        if let config = search.kilnRagConfig {
            guard project.ragConfigs().contains(where: { $0["id"]?.stringValue == config }) else {
                throw ActionableError(
                    "the runs searched with the Kiln RAG config '\(config)', which the Kiln project "
                        + "\(project.displayPath) does not have: Kiln could not rerun them",
                    hint: "export into the project that holds the RAG config (kiln_project: of the search tool)")
            }
            return
        }
        let index = search.index
        var hybrid = false
        if case .index(let settings)? = pipeline.stage(withID: index)?.settings { hybrid = settings.embeddings != nil }
        let storeID = KilnProjectRecords.id(for: "vector_store/\(pipeline.name)/\(index)/\(search.k)/\(hybrid)")
        let storeFile = projectDirectory.appendingPathComponent("vector_store_configs")
            .appendingPathComponent(KilnNames.folderName(id: storeID, name: "\(pipeline.name) \(index)"))
            .appendingPathComponent("vector_store_config.kiln")
        try Self.write(
            KilnProjectRecords.vectorStoreConfig(
                id: storeID, search: search, hybrid: hybrid, pipeline: pipeline.name,
                stamp: Self.keptStamp(of: storeFile) ?? stamp),
            to: storeFile)
        let file = projectDirectory.appendingPathComponent("rag_configs")
            .appendingPathComponent(KilnNames.folderName(id: index, name: "\(pipeline.name) \(index)"))
            .appendingPathComponent("rag_config.kiln")
        try Self.write(
            KilnProjectRecords.ragConfig(
                search: search, vectorStoreID: storeID, pipeline: pipeline.name,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
    }

    /// Writes a judged item as an eval run of the judge's eval config, pointing at the run config it judged.
    private mutating func writeEvalRun(
        scores: JSONObject, runID: String, item: PipelineItem, input: String, output: String, runConfigID: String,
        judge: (id: String, settings: JudgeSettings)
    ) throws {
        let config = try evalConfig ?? writeEval(scores: scores, judge: judge)
        evalConfig = config
        let evalRunID = KilnProjectRecords.id(for: "eval_run/\(config.id)/\(runID)")
        let file = config.folder.appendingPathComponent("runs").appendingPathComponent("\(evalRunID)/eval_run.kiln")
        let values = scores.compactMap { entry in entry.value.numberValue.map { (KilnNames.scoreKey(entry.key), $0) } }
        try Self.write(
            KilnProjectRecords.evalRun(
                id: evalRunID, datasetID: runID, taskRunConfigID: runConfigID, input: input, output: output,
                scores: values, reasoning: item.fields["judge"]?["reasoning"]?.stringValue,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        evalRuns += 1
    }

    /// The eval and its judge config; returns the config's folder and id. The eval's id follows from the scores it has
    /// (Kiln checks every eval run against them), the config's from the judge (model, method, steps): a changed
    /// judge is a new config, made the eval's current one, beside the old one and its runs.
    private func writeEval(
        scores: JSONObject, judge: (id: String, settings: JudgeSettings)
    ) throws -> (folder: URL, id: String) {
        let requirements = judge.settings.rubric.isEmpty ? (pipeline.task?.requirements ?? []) : judge.settings.rubric
        let types = Dictionary(requirements.map { ($0.name, $0.type.rawValue) }) { first, _ in first }
        let outputScores = scores.map { entry -> (name: String, type: String) in
            if entry.key == "overall" { return (entry.key, judge.settings.score.rawValue) }
            return (entry.key, types[entry.key] ?? "pass_fail")  // assertions pass (1) or fail (0)
        }
        let keys = outputScores.map { "\(KilnNames.scoreKey($0.name)):\($0.type)" }.sorted().joined(separator: ",")
        let evalID = KilnProjectRecords.id(for: "eval/\(taskID)/\(judge.id)/\(keys)")
        let evalFolder = taskDirectory.appendingPathComponent("evals").appendingPathComponent(
            KilnNames.folderName(id: evalID, name: judge.id))
        let judgeConfig = judge.settings.provider.flatMap { pipeline.provider(named: $0) }
        let judgeSettings = judgeConfig.map { Self.runSettings($0, model: nil) }
        let model = judgeSettings?.model ?? "assertions"
        let provider = judgeSettings?.provider ?? "openai_compatible"
        let steps = requirements.map(\.instruction)
        let configID = KilnProjectRecords.id(
            for: "eval_config/\(evalID)/\(model)/\(provider)/\(judge.settings.method.rawValue)/"
                + steps.joined(separator: "\u{1F}"))
        let configName = "\(judge.settings.provider ?? "assertions") \(judgeConfig?.model ?? "")"
        let configFolder = evalFolder.appendingPathComponent("configs").appendingPathComponent(
            KilnNames.folderName(id: configID, name: configName))
        let evalFile = evalFolder.appendingPathComponent("eval.kiln")
        try Self.write(
            KilnProjectRecords.eval(
                id: evalID, name: judge.id, configID: configID, outputScores: outputScores,
                stamp: Self.keptStamp(of: evalFile) ?? stamp),
            to: evalFile)
        let configFile = configFolder.appendingPathComponent("eval_config.kiln")
        try Self.write(
            KilnProjectRecords.evalConfig(
                id: configID, name: configName, model: model, provider: provider,
                method: judge.settings.method.rawValue, steps: steps, stamp: Self.keptStamp(of: configFile) ?? stamp),
            to: configFile)
        return (configFolder, configID)
    }

    /// Writes the dataset split of the parts written (whole: rewritten, never appended), when the items came
    /// through a split stage.
    package func finish(split: SplitSettings?) throws -> String? {
        guard let split, !written.isEmpty else { return nil }
        let name = "\(pipeline.name) \(stageID)"
        let id = KilnProjectRecords.id(for: "split/\(taskID)/\(name)")
        let folder = taskDirectory.appendingPathComponent("dataset_splits").appendingPathComponent(
            KilnNames.folderName(id: id, name: name))
        let file = folder.appendingPathComponent("dataset_split.kiln")
        try Self.write(
            KilnProjectRecords.datasetSplit(
                id: id, name: name, parts: split.parts, contents: written, filter: split.filter.description,
                stamp: Self.keptStamp(of: file) ?? stamp),
            to: file)
        return file.path
    }

    /// A provider's settings in Kiln's terms: its provider name, and for an OpenAI-compatible endpoint the
    /// `<provider>::<model>` id Kiln's adapters resolve against a provider of that name in Kiln's settings.
    static func runSettings(_ config: ProviderConfig?, model: String?) -> KilnProjectRecords.RunSettings {
        let provider =
            config.map { ProviderKeyDefaults.kilnProviderName(kind: $0.kind, baseURL: $0.baseURL) }
            ?? "openai_compatible"
        let bare = model ?? config?.model ?? "unknown"
        let name = config?.name ?? "kiln-pipe"
        return KilnProjectRecords.RunSettings(
            model: provider == "openai_compatible" && !bare.contains("::") ? "\(name)::\(bare)" : bare,
            provider: provider, temperature: config?.params.temperature ?? 1, topP: config?.params.topP ?? 1,
            structuredOutput: config?.structuredOutput?.rawValue ?? "json_schema")
    }

    /// An item's tags as Kiln takes them (non-empty, no spaces: a space becomes `_`).
    static func kilnTags(_ value: JSONValue?) -> [String] {
        let raw = value?.arrayValue?.compactMap(\.stringValue) ?? value?.stringValue.map { [$0] } ?? []
        return raw.map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "_") }
            .filter { !$0.isEmpty && $0 != "kiln_pipe" }
    }

    /// An existing record's creation stamp: rewriting a run keeps when it was first written.
    static func keptStamp(of file: URL) -> KilnProjectRecords.Stamp? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return KilnProjectRecords.Stamp(of: try? JSONValue(parsing: String(decoding: data, as: UTF8.self)))
    }

    static func write(_ record: JSONValue, to file: URL) throws {
        try Folder.create(file.deletingLastPathComponent().path)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(
            ".\(file.lastPathComponent).\(getpid()).partial")
        try Data(KilnFileJSON.dumps(record).utf8).write(to: temporary)
        // rename(2) replaces the file in one step: a reader (the Kiln app) sees the old record or the new one.
        guard rename(temporary.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ActionableError(
                "cannot write \(file.path): \(reason)", hint: "check that the Kiln project folder is writable")
        }
    }
}
