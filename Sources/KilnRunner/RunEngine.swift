import Foundation
import KilnBasics
import KilnExport
package import KilnModel
import KilnProviders
import KilnScheduler
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

    init(pipeline: Pipeline, options: RunOptions, storeWrapper: @escaping @Sendable (any CheckpointStore) -> any CheckpointStore) {
        self.storeWrapper = storeWrapper
        self.pipeline = pipeline
        self.options = options
        baseDirectory = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
    }

    /// Runs every stage; throws `RunSetupError` when the run cannot start (nothing was paid for then).
    package func run(progress: RunProgress) async throws -> RunReport {
        if let only = options.onlyStages, let unknown = only.first(where: { pipeline.stage(withID: $0) == nil }) {
            throw RunSetupError("--only names unknown stage '\(unknown)'", hint: "stages: \(pipeline.stages.map(\.id).joined(separator: ", "))")
        }
        // --only: the named stages run with the stages that feed them (which compute only what the store lacks);
        // stages downstream of them are skipped.
        var selected = options.onlyStages.map { only in
            let needed = Self.upstreamClosure(of: only, in: pipeline)
            return pipeline.stages.filter { needed.contains($0.id) }
        } ?? pipeline.stages
        // A shard leaves the stages that need every item, and what reads from them, to `--after-shards`.
        var waiting: [StageReport] = []
        if options.shard != nil {
            let later = Self.downstreamClosure(of: Set(selected.filter { Shard.needsWholeInput($0.type) }.map(\.id)), in: pipeline)
            for stage in selected where later.contains(stage.id) {
                var report = StageReport(id: stage.id, type: stage.type)
                report.note("needs every shard's items: runs with `kiln-pipe run --after-shards` once all shards finished")
                waiting.append(report)
            }
            selected.removeAll { later.contains($0.id) }
        }
        let (stages, waitingReports) = (selected, waiting)
        if options.afterShards { try await checkShardsFinished() }
        let store = storeWrapper(try StoreLocation.open(options.statePath))
        try await store.waitUntilReady()
        if let cassette = options.cassettePath { _ = try await Cassette.load(cassette, into: store) }
        let providerNames = Set(stages.filter { !servedFromStore($0) }.flatMap { $0.settings.providerNames })
        let pool = try ProviderPool(
            pipeline: pipeline, names: providerNames, environment: options.environment,
            concurrencyOverride: options.concurrency)
        defer { pool.shutdown() }
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        let budget = BudgetTracker(limitUSD: options.maxCostUSD ?? pipeline.maxCostUSD)
        let executor = CallExecutor(
            budget: budget, stop: stop,
            batches: BatchCoordinator.forBatchedProviders(in: pool, names: providerNames, store: store, stop: stop, progress: progress))

        // One bounded channel per (producer, consumer) edge.
        var inbound: [String: [BoundedChannel<PipelineItem>]] = [:]
        var outbound: [String: [BoundedChannel<PipelineItem>]] = [:]
        for stage in stages {
            for source in stage.from {
                let channel = BoundedChannel<PipelineItem>(capacity: 256)
                inbound[stage.id, default: []].append(channel)
                outbound[source, default: []].append(channel)
            }
        }
        let reports = try await withThrowingTaskGroup(of: (Int, StageReport, RunStop?).self) { group in
            for (index, stage) in stages.enumerated() {
                let context = StageContext(
                    stage: stage, inputs: inbound[stage.id] ?? [], outputs: outbound[stage.id] ?? [],
                    outputFile: URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("\(stage.id).jsonl").path,
                    mode: CacheMode(
                        useCache: !(options.freshAll || options.freshStages.contains(stage.id)),
                        offline: servedFromStore(stage)),
                    progress: progress)
                group.addTask { [self] in
                    let (report, stopReason) = try await runStage(context, store: store, pool: pool, executor: executor)
                    return (index, report, stopReason)
                }
            }
            var reports: [(Int, StageReport, RunStop?)] = []
            for try await result in group { reports.append(result) }
            return reports.sorted { $0.0 < $1.0 } + waitingReports.map { (stages.count, $0, nil) }
        }
        return RunReport(
            stages: reports.map(\.1), stop: reports.compactMap(\.2).first,
            statePath: StoreLocation.describe(options.statePath))
    }

    /// Streams a load stage's rows into the stage's outputs.
    private func readLoad(
        _ settings: LoadSettings, context: StageContext, report: inout StageReport,
        emit: (PipelineItem) async throws -> Void
    ) async throws {
        try await LoadStage(
            stageID: context.stage.id, settings: settings, baseDirectory: baseDirectory, defaultTaskID: kilnTaskID
        ).read(
                    emit: { item in
                        if let shard = options.shard, !shard.contains(item.id) {
                            report.otherShards += 1
                            return
                        }
                        try await emit(item)
                        report.items += 1
                        if report.items % 256 == 0 {
                            let snapshot = report
                            await context.progress.update(context.stage.id) { $0 = snapshot }
                        }
                    },
                    skipped: { bad in
                        report.skipped += 1
                        report.note("\(bad.location): \(bad.reason) (skipped)")
                    })
        report.noteShare(of: options.shard, unit: "rows")
    }

    /// What a generation stage calls with; it needs the pipeline's task.
    private func services(
        for context: StageContext, provider: String, pool: ProviderPool, executor: CallExecutor, store: any CheckpointStore
    ) throws -> StageServices {
        guard let task = pipeline.task else { throw RunSetupError("stage '\(context.stage.id)' needs a task") }
        return StageServices(
            stageID: context.stage.id, task: task, provider: pipeline.provider(named: provider), pool: pool,
            executor: executor, store: store, mode: context.mode)
    }

    private var kilnTaskID: String? {
        if case .kilnProject(_, let taskID) = pipeline.task?.origin { return taskID }
        return nil
    }

    private var declaredProviders: [String: ProviderConfig] {
        Dictionary(uniqueKeysWithValues: pipeline.providers.map { ($0.name, $0) })
    }

    /// Feeds a unit stage from its inputs through an ordered window; filters, reports and emits what it produces.
    private func runUnits<Stage: UnitStage>(
        _ stage: Stage, concurrency: Int, loop: (any TaskExecutor)?, context: StageContext,
        store: PrefetchingCheckpointStore, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws -> RunStop? {
        var queued: [Stage.Unit] = []
        var inputIndex = 0
        var stopReason: RunStop?
        var filter = QualityFilter(settings: stage.filters, field: stage.filteredField)
        // On the provider's event loop when it has one: an answer then resumes its unit without a thread hop.
        try await withTaskExecutorPreference(loop) {
            try await forEachOrdered(
                {
                    while queued.isEmpty {
                        guard inputIndex < context.inputs.count else { return nil }
                        let input = context.inputs[inputIndex]
                        guard let item = await input.receive() else {
                            inputIndex += 1
                            continue
                        }
                        // The items already waiting join it, so their units' records come in one query.
                        let items = [item] + (await input.receiveBuffered(limit: max(1, concurrency) - 1))
                        queued = items.flatMap(stage.units(for:))
                        queued.reverse()
                        if context.mode.useCache { await store.prefetch(queued.flatMap(stage.cacheKeys(for:))) }
                    }
                    return queued.removeLast()
                },
                // Twice the providers' slots: while one unit waits for its answer, another looks up the store or
                // checkpoints, so the providers' limiters (which bound the calls in flight) never wait on that work.
                concurrency: 2 * max(1, concurrency), transform: { unit in await stage.run(unit) },
                emit: { result in
                    switch result {
                    case .done(let items, let cached, let usage, let requests):
                        if cached { report.cached += 1 } else { report.computed += 1 }
                        report.usage += usage
                        report.requests += requests
                        for item in items {
                            if let reason = filter.rejection(of: item) {
                                report.filtered += 1
                                report.note("\(item.id): filtered, \(reason)")
                            } else {
                                try await emit(item)
                                report.items += 1
                            }
                        }
                    case .failed(let reason, let usage, let requests):
                        report.failed += 1
                        report.usage += usage
                        report.requests += requests
                        report.note(reason)
                    case .stopped(let reason):
                        if stopReason == nil { stopReason = reason }
                        stop.set()
                    case .missing(let estimate):
                        if report.pending == 0 { report.note("not in the checkpoint store, and --offline makes no call") }
                        report.pending += 1
                        report.pendingCalls += estimate.calls
                        report.pendingUsage += Usage(
                            inputTokens: estimate.inputTokens, outputTokens: estimate.outputTokens, costUSD: estimate.costUSD)
                    }
                    // Progress is for people: publishing every 16th result is plenty and saves an actor hop per call.
                    if (report.computed + report.cached + report.failed) % 16 == 0 {
                        let snapshot = report
                        await context.progress.update(context.stage.id) { $0 = snapshot }
                    }
                }, shouldStop: { self.stop.isSet })
        }
        return stopReason
    }

    /// The closest judge stage upstream of `stage` (its scores are what the items carry).
    func nearestJudge(above stage: StageSpec) -> (id: String, settings: JudgeSettings)? {
        var frontier = stage.from
        var seen = Set<String>()
        while !frontier.isEmpty {
            let id = frontier.removeFirst()
            guard seen.insert(id).inserted, let upstream = pipeline.stage(withID: id) else { continue }
            if case .judge(let settings) = upstream.settings { return (upstream.id, settings) }
            frontier += upstream.from
        }
        return nil
    }

    /// Before `--after-shards` writes anything: every per-item unit must be in the store (done or failed), or a
    /// shard has not finished and the split and exports would silently miss its items.
    private func checkShardsFinished() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-pipe-shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var replay = options
        replay.afterShards = false
        replay.offline = true
        replay.dryRun = true
        replay.outputDirectory = scratch.path
        let report = try await RunEngine(pipeline: pipeline, options: replay, storeWrapper: storeWrapper)
            .run(progress: RunProgress(stages: []))
        let unfinished = report.stages.filter { !Shard.needsWholeInput($0.type) && $0.pending > 0 }
        guard unfinished.isEmpty else {
            throw RunSetupError(
                "a shard has not finished: "
                    + unfinished.map { "stage '\($0.id)' lacks \($0.pending) of \($0.pending + $0.cached + $0.failed) units" }
                    .joined(separator: ", ") + " in \(StoreLocation.describe(options.statePath)); nothing was written",
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
            for stage in pipeline.stages where !reached.contains(stage.id) && stage.from.contains(where: reached.contains) {
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
            for source in pipeline.stage(withID: id)?.from ?? [] where needed.insert(source).inserted {
                frontier.append(source)
            }
        }
        return needed
    }

    private func runStage(
        _ context: StageContext, store: any CheckpointStore, pool: ProviderPool, executor: CallExecutor
    ) async throws -> (StageReport, RunStop?) {
        var report = StageReport(id: context.stage.id, type: context.stage.type)
        report.outputFile = context.outputFile
        let writer = try JSONLinesWriter(path: context.outputFile)
        var stopReason: RunStop?
        /// Writes an item to the stage's file and hands it to every consumer; the caller counts it.
        func emit(_ item: PipelineItem) async throws {
            try writer.write(item.json)
            for channel in context.outputs { await channel.send(item) }
        }
        do {
            switch context.stage.settings {
            case .load(let settings):
                do {
                    try await readLoad(settings, context: context, report: &report, emit: emit)
                    report.cached = report.items
                } catch let bad as LoadStage.BadRow {
                    throw RunSetupError(
                        "\(bad.location): \(bad.reason)",
                        hint: "fix the row, or add on_error: skip to stage '\(context.stage.id)' to skip and report bad rows")
                }
            case .topics(let settings):
                let stage = TopicsStage(
                    settings: settings,
                    services: try services(for: context, provider: settings.provider, pool: pool, executor: executor, store: store))
                let growth = await stage.grow(
                    concurrency: pool[settings.provider]?.unitConcurrency ?? 1, shouldStop: { self.stop.isSet })
                report.cached = growth.cached
                report.computed = growth.computed
                report.failed = growth.failures.count
                report.pending = growth.missing.count
                report.pendingCalls = growth.missing.reduce(0) { $0 + $1.calls }
                report.pendingUsage = growth.missing.reduce(Usage()) {
                    $0 + Usage(inputTokens: $1.inputTokens, outputTokens: $1.outputTokens, costUSD: $1.costUSD)
                }
                report.usage = growth.usage
                report.requests = growth.requests
                for failure in growth.failures { report.note(failure) }
                stopReason = growth.stop
                if stopReason != nil { stop.set() }
                if let shard = options.shard, !growth.missing.isEmpty {
                    throw RunSetupError(
                        "shard \(shard): the topic tree of stage '\(context.stage.id)' is not complete in the store",
                        hint: "grow it once before the shards: kiln-pipe run \(pipeline.sourcePath) --only \(context.stage.id) --state <the shared store>")
                }
                for item in stage.items(of: growth) {
                    if let shard = options.shard, !shard.contains(item.id) {
                        report.otherShards += 1
                        continue
                    }
                    try await emit(item)
                    report.items += 1
                }
                report.noteShare(of: options.shard, unit: "topics")
            case .inputs(let settings):
                let unitStore = PrefetchingCheckpointStore(store)
                let stage = InputsStage(
                    settings: settings,
                    services: try services(
                        for: context, provider: settings.provider, pool: pool, executor: executor, store: unitStore))
                stopReason = try await runUnits(
                    stage, concurrency: pool[settings.provider]?.unitConcurrency ?? 1,
                    loop: pool[settings.provider]?.executor, context: context, store: unitStore, report: &report, emit: emit)
            case .judge(let settings):
                let unitStore = PrefetchingCheckpointStore(store)
                let stage = JudgeStage(
                    settings: settings,
                    services: StageServices(
                        stageID: context.stage.id, task: pipeline.task ?? TaskDefinition(instruction: ""),
                        provider: settings.provider.flatMap { pipeline.provider(named: $0) }, pool: pool, executor: executor,
                        store: unitStore, mode: context.mode))
                var board = ScoreBoard()
                stopReason = try await runUnits(
                    stage, concurrency: settings.provider.flatMap { pool[$0]?.unitConcurrency } ?? 16,
                    loop: settings.provider.flatMap { pool[$0]?.executor }, context: context, store: unitStore, report: &report,
                    emit: { item in
                        board.record(item)
                        try await emit(item)
                    })
                if let shard = options.shard {
                    // One shard's scores say nothing about the whole: the gate is decided after the shards.
                    if !settings.thresholds.isEmpty { report.note("shard \(shard): thresholds are checked by --after-shards") }
                } else {
                    report.thresholds = board.evaluate(settings.thresholds, stage: context.stage.id)
                }
                report.maxErrorRate = settings.maxErrorRate
            case .export(let settings):
                let stage = ExportStage(
                    stageID: context.stage.id, settings: settings, task: pipeline.task, store: store,
                    baseDirectory: baseDirectory, force: options.force,
                    redirect: options.dryRun ? URL(fileURLWithPath: options.outputDirectory).appendingPathComponent(context.stage.id).path : nil)
                var writers: [String: (path: String, writer: JSONLinesWriter)] = [:]
                var counts: [String: Int] = [:]
                var order: [String] = []
                // The same for every item: computed once.
                let (format, system, instructions) = (stage.format, stage.systemMessage, stage.thinkingInstructions)
                // `kiln_project:` writes task runs into a Kiln project; files too when `out:` is given.
                var project = try settings.kilnProject.flatMap { path -> KilnProjectWriter? in
                    options.dryRun ? nil : try KilnProjectWriter(
                        projectFile: path.hasPrefix("/") ? path : baseDirectory + "/" + path, pipeline: pipeline, stageID: context.stage.id,
                        judge: nearestJudge(above: context.stage))
                }
                let writesFiles = settings.out != nil || settings.kilnProject == nil
                for channel in context.inputs {
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
                                for: ExportStage.example(from: item), format: format, system: system,
                                strategy: settings.strategy, thinkingInstructions: instructions)
                        } catch {
                            report.failed += 1
                            report.note("\(item.id): \(error.message)")
                            continue
                        }
                        if writers[name] == nil {
                            let path = stage.path(for: part)
                            try await stage.checkOverwrite(path)
                            try FileManager.default.createDirectory(
                                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
                            writers[name] = (path, try JSONLinesWriter(path: path))
                            order.append(name)
                        }
                        try writers[name]?.writer.write(line: line)
                        counts[name, default: 0] += 1
                        report.items += 1
                        report.computed += 1
                    }
                }
                if let project {
                    let upstream = context.stage.from.first.flatMap { pipeline.stage(withID: $0) }
                    var split: SplitSettings?
                    if case .split(let settings) = upstream?.settings { split = settings }
                    let splitFile = try project.finish(split: split)
                    let runs = project.written.values.reduce(0) { $0 + $1.count }
                    report.note(
                        "wrote \(runs) task runs\(project.evalRuns > 0 ? " and \(project.evalRuns) eval runs" : "") to \(project.taskDirectory.path)\(splitFile.map { " and the dataset split \($0)" } ?? "")"
                            + (project.skipped > 0 ? "; \(project.skipped) items without an output skipped" : ""))
                }
                for name in order {
                    guard let (path, writer) = writers[name] else { continue }
                    try writer.close()
                    try await stage.recordWritten(path)
                    report.files.append(path)
                    report.note("wrote \(counts[name] ?? 0) examples to \(path)")
                }
                report.parts = order.map { ($0.isEmpty ? "all" : $0, counts[$0] ?? 0) }
            case .split(let settings):
                let stage = SplitStage(settings: settings)
                var sizes: [String: Int] = [:]
                for channel in context.inputs {
                    while var item = await channel.receive() {
                        if let reason = stage.exclusion(of: item) {
                            report.filtered += 1
                            report.note("\(item.id): \(reason)")
                            continue
                        }
                        let part = stage.part(of: item)
                        item.fields["split"] = .string(part)
                        sizes[part, default: 0] += 1
                        try await emit(item)
                        report.items += 1
                    }
                }
                report.parts = settings.parts.map { ($0.name, sizes[$0.name] ?? 0) }
            case .ingest(let settings):
                stopReason = try await runIngest(
                    settings, context: context, store: store, pool: pool, executor: executor, report: &report, emit: emit)
            case .index(let settings):
                stopReason = try await runIndex(settings, context: context, store: store, pool: pool, executor: executor, report: &report, emit: emit)
            case .outputs(let settings):
                guard let task = pipeline.task else { throw RunSetupError("stage '\(context.stage.id)' needs a task") }
                let unitStore = PrefetchingCheckpointStore(store)
                let stage = OutputsStage(
                    stageID: context.stage.id, settings: settings, task: task, declared: declaredProviders, pool: pool,
                    executor: executor, store: unitStore, mode: context.mode)
                let concurrency = settings.models.reduce(0) { $0 + (pool[$1]?.unitConcurrency ?? 1) }
                // Several models: the first one's event loop (answers from the others hop over to it).
                stopReason = try await runUnits(
                    stage, concurrency: concurrency, loop: settings.models.first.flatMap { pool[$0]?.executor }, context: context,
                    store: unitStore, report: &report, emit: emit)
            }
        } catch {
            for channel in context.outputs { await channel.finish() }
            // Drain inputs so upstream stages never block on a consumer that left.
            for channel in context.inputs { while await channel.receive() != nil {} }
            throw error
        }
        for channel in context.outputs { await channel.finish() }
        for channel in context.inputs { while await channel.receive() != nil {} }
        try writer.close()
        await context.progress.update(context.stage.id) { [report] in $0 = report }
        return (report, stopReason)
    }
}

/// Everything one stage task needs.
struct StageContext: Sendable {
    var stage: StageSpec
    var inputs: [BoundedChannel<PipelineItem>]
    var outputs: [BoundedChannel<PipelineItem>]
    var outputFile: String
    var mode: CacheMode
    var progress: RunProgress
}
