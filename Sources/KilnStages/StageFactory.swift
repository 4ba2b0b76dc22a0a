import Foundation
import KilnBasics
import KilnIndex
import KilnModel

/// The one place that maps a stage's settings to the type that runs it.
package enum StageFactory {
    package static func make(for run: StageRun) throws -> any Stage {
        let shared = run.shared
        switch run.spec.settings {
        case .load(let settings):
            return LoadStage(
                stageID: run.id, settings: settings, baseDirectory: shared.baseDirectory,
                defaultTaskID: shared.kilnTaskID, pipelineName: shared.pipeline.name)
        case .topics(let settings):
            return TopicsStage(settings: settings, services: try run.services(provider: settings.provider))
        case .inputs(let settings):
            return InputsStage(settings: settings, services: try run.services(provider: settings.provider))
        case .outputs(let settings):
            guard let task = shared.pipeline.task else { throw RunSetupError("stage '\(run.id)' needs a task") }
            var fingerprints: [String: String] = [:]
            for index in settings.tools.searchedIndexes {
                fingerprints[index] = IndexSearcher.fingerprint(of: try indexPath(of: index, for: run))
            }
            let location = run.spec.location
            let place = "\(shared.pipeline.sourcePath):\(location.line):\(location.column)"
            let declared = Dictionary(uniqueKeysWithValues: shared.pipeline.providers.map { ($0.name, $0) })
            var stage = OutputsStage(
                stageID: run.id, settings: settings, task: task, declared: declared, pool: shared.pool,
                executor: shared.executor, store: run.store, mode: run.mode,
                toolBox: settings.tools.isEmpty
                    ? nil
                    : try toolBox(
                        settings.tools, for: run, place: place,
                        fingerprint: ToolFingerprint(declared: declared, indexFingerprints: fingerprints)),
                indexFingerprints: fingerprints)
            stage.place = place
            return stage
        case .judge(let settings):
            var stage = JudgeStage(
                settings: settings,
                services: run.services(
                    task: shared.pipeline.task ?? TaskDefinition(instruction: ""), provider: settings.provider))
            for assertion in settings.assertions {
                guard let embeddings = assertion.embeddings else { continue }
                stage.embedders[assertion.name] = EmbeddingClient(
                    settings: embeddings, access: run.access(to: embeddings.provider))
            }
            return stage
        case .qna(let settings):
            return QnaStage(
                settings: settings,
                services: run.services(
                    task: shared.pipeline.task ?? TaskDefinition(instruction: ""), provider: settings.provider))
        case .split(let settings):
            return SplitStage(settings: settings)
        case .export(let settings):
            return ExportStage(
                stageID: run.id, settings: settings,
                files: {
                    ExportFiles(
                        settings: settings, task: shared.pipeline.task, store: run.store,
                        baseDirectory: shared.baseDirectory, force: shared.options.force,
                        outSetting: "out: for stage '\(run.id)'",
                        redirect: shared.options.dryRun
                            ? URL(fileURLWithPath: shared.options.outputDirectory).appendingPathComponent(run.id).path
                            : nil)
                })
        case .ingest(let settings):
            return IngestStage(
                stageID: run.id, settings: settings, baseDirectory: shared.baseDirectory, store: run.store,
                mode: run.mode,
                transcriber: settings.extractionProvider.map { PageTranscriber(access: run.access(to: $0)) })
        case .index(let settings):
            return IndexStage(
                stageID: run.id, settings: settings, indexPath: try indexPath(of: run.id, for: run),
                embedder: settings.embeddings.map {
                    EmbeddingClient(settings: $0, access: run.access(to: $0.provider))
                },
                dryRun: shared.options.dryRun)
        }
    }

    /// The tools of an agent: the built-ins, MCP servers and searches it names, and each task it may call with the
    /// task's own tools (tasks cannot call themselves: the loader refuses loops).
    private static func toolBox(
        _ tools: ToolSettings, for run: StageRun, place: String, fingerprint: ToolFingerprint
    ) throws -> ToolBox {
        var searches: [ToolBox.SearchTool] = []
        for search in tools.searchTools {
            let path = try indexPath(of: search.index, for: run)
            searches.append(ToolBox.SearchTool(spec: search) { try searcher(search.index, path: path, for: run) })
        }
        let agents = try tools.subTasks.map { task in
            SubAgent(
                spec: task, tools: try toolBox(task.tools, for: run, place: place, fingerprint: fingerprint),
                fingerprint: fingerprint.key(of: task), pool: run.shared.pool, executor: run.shared.executor,
                store: run.store, stageID: run.id, fresh: !run.mode.useCache, place: place)
        }
        return ToolBox(ids: tools.builtIns, servers: tools.mcpServers, searches: searches, agents: agents)
    }

    /// The file of the index stage `id`.
    private static func indexPath(of id: String, for run: StageRun) throws -> String {
        guard let stage = run.pipeline.stage(withID: id), case .index(let settings) = stage.settings else {
            throw RunSetupError("'\(id)' is not an index stage")
        }
        return IndexStage.path(
            for: id, settings: settings, baseDirectory: run.shared.baseDirectory,
            statePath: run.shared.options.statePath)
    }

    /// A search of the index stage `id`'s index for an agent's search tool: with the index's embedding provider
    /// when this run has it (hybrid), else BM25.
    private static func searcher(_ id: String, path: String, for run: StageRun) throws -> IndexSearcher {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RunSetupError(
                "index '\(id)' has not been built (no \(path))",
                hint: "run its index stage: `kiln-pipe run \(run.pipeline.sourcePath) --only \(id)`")
        }
        let index = SerialConfined(try SearchIndex(path: path), label: "kiln-pipe.search.\(id)")
        guard let stage = run.pipeline.stage(withID: id), case .index(let settings) = stage.settings,
            let embeddings = settings.embeddings
        else { return IndexSearcher(stageID: id, index: index, embedder: nil) }
        guard run.shared.pool[embeddings.provider] != nil, !run.options.offline else {
            return IndexSearcher(
                stageID: id, index: index, embedder: nil,
                embeddingsUnavailable: "the embedding provider '\(embeddings.provider)' is not in this run")
        }
        return IndexSearcher(
            stageID: id, index: index,
            embedder: EmbeddingClient(settings: embeddings, access: run.access(to: embeddings.provider)))
    }
}
