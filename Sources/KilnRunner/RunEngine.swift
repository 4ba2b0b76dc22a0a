import Foundation
import KilnBasics
package import KilnModel
import KilnProviders
import KilnScheduler
package import KilnStages
import KilnStore

/// Runs a pipeline: stages stream items to each other through bounded channels (no barrier between per-item
/// stages), each unit of work is looked up in the checkpoint store first and checkpointed once validated.
package final class RunEngine: Sendable {
    let pipeline: Pipeline
    let options: RunOptions
    let baseDirectory: String
    package let stop = StopFlag()
    /// Wraps the checkpoint store the run opens (freeze records what it serves).
    let storeWrapper: @Sendable (any CheckpointStore) -> any CheckpointStore

    package convenience init(pipeline: Pipeline, options: RunOptions) {
        self.init(pipeline: pipeline, options: options, storeWrapper: { $0 })
    }

    init(
        pipeline: Pipeline, options: RunOptions,
        storeWrapper: @escaping @Sendable (any CheckpointStore) -> any CheckpointStore
    ) {
        self.storeWrapper = storeWrapper
        self.pipeline = pipeline
        self.options = options
        baseDirectory = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
    }

    /// A stage searching an index this run does not build (a shard leaves index stages to `--after-shards`, and
    /// `--only` may leave them out) needs it built already: said before any call is paid for, not when the first
    /// item reaches the stage.
    private func checkSearchedIndexes(of stages: [StageSpec]) throws {
        let running = Set(stages.map(\.id))
        for stage in stages where !options.dryRun && !options.offline {
            for id in stage.settings.waitsFor where !running.contains(id) {
                guard let index = pipeline.stage(withID: id), case .index(let settings) = index.settings else {
                    continue
                }
                let path = IndexStage.path(
                    for: id, settings: settings, baseDirectory: baseDirectory, statePath: options.statePath)
                guard !FileManager.default.fileExists(atPath: path) else { continue }
                let file = pipeline.sourcePath
                let run = options.shard.map { "shard \($0)" } ?? "this run"
                throw RunSetupError(
                    "stage '\(stage.id)' searches index '\(id)', which \(run) does not build and which has not been "
                        + "built (no \(path))",
                    hint: options.shard == nil
                        ? "run its index stage first: kiln-pipe run \(file) --only \(id)"
                        : "build it once before the shards: kiln-pipe run \(file) --only \(id) "
                            + "--state <the shared store>")
            }
        }
    }

    /// Runs every stage; throws `RunSetupError` when the run cannot start (nothing was paid for then).
    package func run(progress: RunProgress) async throws -> RunReport {
        if let only = options.onlyStages, let unknown = only.first(where: { pipeline.stage(withID: $0) == nil }) {
            throw RunSetupError(
                "--only names unknown stage '\(unknown)'",
                hint: NearMiss.hint(for: unknown, among: pipeline.stages.map(\.id), listing: "the stages are"))
        }
        // --only: the named stages run with the stages that feed them (which compute only what the store lacks);
        // stages downstream of them are skipped.
        var selected =
            options.onlyStages.map { only in
                let needed = Self.upstreamClosure(of: only, in: pipeline)
                return pipeline.stages.filter { needed.contains($0.id) }
            } ?? pipeline.stages
        // A shard leaves the stages that need every item, and what reads from them, to `--after-shards`.
        var waiting: [StageReport] = []
        if options.shard != nil {
            let ran = Set(StageLedger.stagesOfShards(pipeline, among: selected).map(\.id))
            for stage in selected where !ran.contains(stage.id) {
                var report = StageReport(id: stage.id, type: stage.type)
                report.note(
                    "needs every shard's items: runs with `kiln-pipe run --after-shards` once all shards finished")
                waiting.append(report)
            }
            selected.removeAll { !ran.contains($0.id) }
        }
        let (stages, waitingReports) = (selected, waiting)
        try checkSearchedIndexes(of: stages)
        return try await StoreLocation.with(options.statePath) { base in
            let store = storeWrapper(base)
            try await store.waitUntilReady()
            if options.afterShards { try await checkShardsFinished(store) }
            if let cassette = options.cassettePath { _ = try await Cassette.load(cassette, into: store) }
            let providerNames = Set(stages.filter { !servedFromStore($0) }.flatMap { $0.settings.providerNames })
            return try await ProviderPool.with(
                pipeline: pipeline, names: providerNames, environment: options.environment,
                concurrencyOverride: options.concurrency, fakeModel: options.fakeModel
            ) { pool in
                try Folder.create(
                    options.outputDirectory, as: "the output folder",
                    hint: "choose a writable folder with --out; nothing was run")
                let budget = BudgetTracker(limitUSD: options.maxCostUSD ?? pipeline.maxCostUSD)
                let batches = BatchCoordinator.forBatchedProviders(
                    in: pool, names: providerNames, store: store, stop: stop, progress: progress)
                let journal = try answerJournal()
                // Runs sharing this store see each other through it; shards never make the same request, so
                // they do not claim.
                let alone = options.dryRun || options.offline || options.shard != nil
                let cooperation = alone ? nil : (base as? any SharedAnswers).map { RunCooperation(answers: $0) }
                await cooperation?.beat()
                let beating = Task { await cooperation?.beatUntilCancelled() }
                defer { beating.cancel() }
                let executor = CallExecutor(
                    budget: budget, stop: stop, batches: batches, journal: journal, cooperation: cooperation)

                // One bounded channel per (producer, consumer) edge.
                var inbound: [String: [BoundedChannel<PipelineItem>]] = [:]
                var outbound: [String: [BoundedChannel<PipelineItem>]] = [:]
                for stage in stages {
                    // A stage that waits for another stage (its search tool's index) holds its inputs meanwhile:
                    // a bounded channel could stop the very stage it waits for (an ingest stage feeding both).
                    let waits = stage.settings.waitsFor.contains { id in stages.contains { $0.id == id } }
                    for source in stage.from {
                        let channel = BoundedChannel<PipelineItem>(capacity: waits ? Int.max : 256)
                        inbound[stage.id, default: []].append(channel)
                        outbound[source, default: []].append(channel)
                    }
                }
                let shared = RunServices(
                    pipeline: pipeline, options: options, baseDirectory: baseDirectory, store: store, pool: pool,
                    executor: executor, stop: stop)
                // The batch coordinators' submissions, polls and timers live inside this scope, as child tasks.
                let reports = try await BatchCoordinator.running(Array(batches.values)) {
                    try await runStages(
                        stages, inbound: inbound, outbound: outbound, progress: progress, store: store, shared: shared)
                }
                // A stage that failed is why the run stopped, whatever the stages it stopped then said.
                let stops = reports.compactMap(\.2)
                let stopReason = stops.first { if case .stageFailed = $0 { true } else { false } } ?? stops.first
                // Every answer is in the store now (or was never validated): the journals are done with.
                journal?.finish()
                await cooperation?.leave()
                // Each stage's line for `status` (a shard's for `--after-shards`); a replay leaves none.
                if !options.dryRun {
                    try await StageLedger.write(
                        reports.map(\.1), stop: stopReason, pipeline: pipeline, baseDirectory: baseDirectory,
                        shard: options.shard, to: store)
                }
                return RunReport(
                    stages: reports.map(\.1) + waitingReports, stop: stopReason,
                    statePath: StoreLocation.describe(options.statePath))
            }
        }
    }

    /// The journal answers are appended to as they arrive (a run that makes no call keeps none): next to an SQLite
    /// store, or for a database store in the pipeline's `.kiln-pipe` folder, one per database.
    private func answerJournal() throws -> AnswerJournal? {
        guard !options.offline, !options.dryRun else { return nil }
        let folder =
            StatePlace.isDatabase(options.statePath)
            ? baseDirectory + "/.kiln-pipe/answers-" + SHA256.hex(RedactedURL.of(options.statePath)).prefix(12)
            : options.statePath + "-answers"
        return try AnswerJournal(folder: folder)
    }

    /// Runs every stage as a child task; returns their reports in pipeline order.
    private func runStages(
        _ stages: [StageSpec], inbound: [String: [BoundedChannel<PipelineItem>]],
        outbound: [String: [BoundedChannel<PipelineItem>]], progress: RunProgress, store: any CheckpointStore,
        shared: RunServices
    ) async throws -> [(Int, StageReport, RunStop?)] {
        let completions = StageCompletions()
        let running = Set(stages.map(\.id))
        return try await withThrowingTaskGroup(of: (Int, StageReport, RunStop?).self) { group in
            for (index, stage) in stages.enumerated() {
                let run = StageRun(
                    spec: stage, inputs: inbound[stage.id] ?? [],
                    outputFile: URL(fileURLWithPath: options.outputDirectory).appendingPathComponent(
                        "\(stage.id).jsonl"
                    ).path,
                    mode: CacheMode(
                        useCache: !(options.freshAll || options.freshStages.contains(stage.id)),
                        offline: servedFromStore(stage)),
                    progress: progress, store: PrefetchingCheckpointStore(store), shared: shared)
                let outputs = outbound[stage.id] ?? []
                group.addTask { [self] in
                    // A stage that waits for another one of this run starts when it has finished.
                    for id in stage.settings.waitsFor where running.contains(id) { await completions.wait(for: id) }
                    let outcome: (StageReport, RunStop?)
                    do {
                        outcome = try await runStage(run, outputs: outputs)
                    } catch {
                        await completions.finish(stage.id)
                        throw error
                    }
                    await completions.finish(stage.id)
                    return (index, outcome.0, outcome.1)
                }
            }
            var reports: [(Int, StageReport, RunStop?)] = []
            for try await result in group { reports.append(result) }
            return reports.sorted { $0.0 < $1.0 }
        }
    }

    /// Before `--after-shards` writes anything: every shard must have finished every stage it runs (its lines in
    /// the store say so), or the split and exports would silently miss its items.
    private func checkShardsFinished(_ store: any CheckpointStore) async throws {
        let problems = try await StageLedger.unfinishedShards(
            of: pipeline, stages: StageLedger.stagesOfShards(pipeline), baseDirectory: baseDirectory, in: store
        ).map(\.problem)
        guard problems.isEmpty else {
            throw RunSetupError(
                "a shard has not finished: \(problems.prefix(5).joined(separator: "; "))"
                    + (problems.count > 5 ? " (and \(problems.count - 5) more)" : "")
                    + " in \(StoreLocation.describe(options.statePath)); nothing was written",
                hint: "rerun the shards that failed or were stopped; a rerun resumes. Then run --after-shards again")
        }
    }

    /// Whether a stage makes no provider call in this run: `--offline`; in a shard, a topic tree (grown once before
    /// the shards); after the shards, every per-item stage (the shards did their work).
    func servedFromStore(_ stage: StageSpec) -> Bool {
        options.offline || (options.shard != nil && stage.type == .topics)
            || (options.afterShards && !Shard.needsWholeInput(stage.type))
    }

    /// The named stages and every stage that reads from them, directly or not.
    static func downstreamClosure(of names: Set<String>, in pipeline: Pipeline) -> Set<String> {
        var reached = names
        var changed = true
        while changed {
            changed = false
            for stage in pipeline.stages
            where !reached.contains(stage.id) && stage.from.contains(where: reached.contains) {
                reached.insert(stage.id)
                changed = true
            }
        }
        return reached
    }

    /// The named stages and every stage they read from, directly or not.
    static func upstreamClosure(of names: Set<String>, in pipeline: Pipeline) -> Set<String> {
        var needed = names
        var frontier = Array(names)
        while let id = frontier.popLast() {
            let stage = pipeline.stage(withID: id)
            for source in (stage?.from ?? []) + (stage?.settings.waitsFor ?? []) where needed.insert(source).inserted {
                frontier.append(source)
            }
        }
        return needed
    }

    /// Runs one stage: its type's loop, with the emitted items written to the stage's file and sent to every
    /// consumer. The stage's channels are finished and its inputs drained whatever happens, so no other stage
    /// waits for ever on it. A stage that fails stops the run the way Ctrl-C does (calls in flight finish and are
    /// saved, none start), so the run still ends with its summary and `status` lines: never "nothing was run" after
    /// answers were paid for.
    private func runStage(
        _ run: StageRun, outputs: [BoundedChannel<PipelineItem>]
    ) async throws
        -> (StageReport, RunStop?)
    {
        var report = StageReport(id: run.id, type: run.spec.type)
        report.outputFile = run.outputFile
        var stopReason: RunStop?
        do {
            let stage = try StageFactory.make(for: run)
            let writer = try JSONLinesWriter(path: run.outputFile)
            do {
                stopReason = try await stage.run(run, report: &report) { item in
                    try writer.write(item.json)
                    for channel in outputs { await channel.send(item) }
                }
                try writer.close()
            } catch {
                writer.discard()
                throw error
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            stop.set()
            let reason = (error as? ActionableError).map { "\($0)" } ?? SystemErrorText.line(of: error)
            stopReason = .stageFailed("stage '\(run.id)': \(reason)")
        }
        // Drain inputs so upstream stages never block on a consumer that left.
        for channel in outputs { await channel.finish() }
        for channel in run.inputs { while await channel.receive() != nil {} }
        await run.publish(report)
        return (report, stopReason)
    }
}
