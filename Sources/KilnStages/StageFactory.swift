import Foundation
import KilnBasics
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
            let tools = settings.tools.isEmpty && settings.mcpServers.isEmpty
            return OutputsStage(
                stageID: run.id, settings: settings, task: task,
                declared: Dictionary(uniqueKeysWithValues: shared.pipeline.providers.map { ($0.name, $0) }),
                pool: shared.pool, executor: shared.executor, store: run.store, mode: run.mode,
                toolBox: tools ? nil : ToolBox(ids: settings.tools, servers: settings.mcpServers))
        case .judge(let settings):
            return JudgeStage(
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
                stageID: run.id, settings: settings,
                indexPath: IndexStage.path(
                    for: run.id, settings: settings, baseDirectory: shared.baseDirectory,
                    statePath: shared.options.statePath),
                embedder: settings.embeddings.map {
                    EmbeddingClient(settings: $0, access: run.access(to: $0.provider))
                },
                dryRun: shared.options.dryRun)
        }
    }
}
