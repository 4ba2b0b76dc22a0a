import Foundation
import KilnBasics
package import KilnModel
package import KilnStore

/// One stage type's loop. The engine builds the graph and its channels, gives each stage a `StageRun` and collects
/// the report; everything a stage type does with its items lives in that type's own file, so a new stage type (or
/// a new option of one) touches its file, `StageFactory` and the model and loader entries — never the engine.
package protocol Stage: Sendable {
    /// Reads the run's inputs (if the stage has any), hands every item it produces to `emit` (which writes the
    /// stage's file and feeds its consumers) and counts into `report`; returns why the run must stop, if it must.
    /// Throwing ends the run with a setup error (exit 2); items already checkpointed stay in the store.
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
}

/// What one stage works with in one run.
package struct StageRun: Sendable {
    package let spec: StageSpec
    /// One channel per stage it reads from (`from:`), in order.
    package let inputs: [BoundedChannel<PipelineItem>]
    /// Where the engine writes the items the stage emits (JSONL).
    package let outputFile: String
    let mode: CacheMode
    let progress: RunProgress
    /// The stage's view of the checkpoint store: unit stages look up a window's keys in one query through it.
    let store: PrefetchingCheckpointStore
    /// What every stage of the run shares.
    let shared: RunServices

    package init(
        spec: StageSpec, inputs: [BoundedChannel<PipelineItem>], outputFile: String, mode: CacheMode,
        progress: RunProgress, store: PrefetchingCheckpointStore, shared: RunServices
    ) {
        self.spec = spec
        self.inputs = inputs
        self.outputFile = outputFile
        self.mode = mode
        self.progress = progress
        self.store = store
        self.shared = shared
    }

    package var id: String { spec.id }
    var options: RunOptions { shared.options }
    var pipeline: Pipeline { shared.pipeline }
    var shouldStop: @Sendable () -> Bool { { [stop = shared.stop] in stop.isSet } }

    /// Publishes the report to the progress line.
    package func publish(_ report: StageReport) async {
        await progress.update(spec.id) { $0 = report }
    }

    /// Generation services for a stage calling `provider` on behalf of the pipeline's task.
    func services(provider: String?) throws -> StageServices {
        guard let task = pipeline.task else { throw RunSetupError("stage '\(spec.id)' needs a task") }
        return services(task: task, provider: provider)
    }

    func services(task: TaskDefinition, provider: String?) -> StageServices {
        StageServices(
            stageID: spec.id, task: task, provider: provider.flatMap { pipeline.provider(named: $0) },
            pool: shared.pool, executor: shared.executor, store: store, mode: mode)
    }

    /// A stage's way to one provider outside the unit loop (ingest's page transcriber, index's embeddings); it
    /// makes no call offline.
    func access(to provider: String) -> CallAccess {
        CallAccess(
            provider: pipeline.provider(named: provider), entry: shared.pool[provider],
            executor: options.offline ? nil : shared.executor, store: store, stageID: spec.id, mode: mode)
    }
}

/// What every stage of one run shares: the pipeline and options, the store, the providers and the stop flag.
package struct RunServices: Sendable {
    let pipeline: Pipeline
    let options: RunOptions
    /// The pipeline file's folder: relative paths in stage settings start here.
    let baseDirectory: String
    let store: any CheckpointStore
    let pool: ProviderPool
    let executor: CallExecutor
    let stop: StopFlag

    package init(
        pipeline: Pipeline, options: RunOptions, baseDirectory: String, store: any CheckpointStore, pool: ProviderPool,
        executor: CallExecutor, stop: StopFlag
    ) {
        self.pipeline = pipeline
        self.options = options
        self.baseDirectory = baseDirectory
        self.store = store
        self.pool = pool
        self.executor = executor
        self.stop = stop
    }

    /// The Kiln task id of a pipeline whose task comes from a Kiln project.
    var kilnTaskID: String? {
        if case .kilnProject(_, let taskID) = pipeline.task?.origin { return taskID }
        return nil
    }
}
