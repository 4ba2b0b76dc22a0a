import KilnModel

extension UnitStage {
    /// Feeds the stage from its inputs through an ordered window of `2 × concurrency` units; filters, counts and
    /// emits what the units produce, in input order.
    func runUnits(
        concurrency: Int, loop: (any TaskExecutor)?, in run: StageRun, report: inout StageReport,
        emit: (PipelineItem) async throws -> Void
    ) async throws -> RunStop? {
        var queued: [Unit] = []
        var inputIndex = 0
        var stopReason: RunStop?
        var filter = QualityFilter(settings: filters, field: filteredField)
        let store = run.store
        // On the provider's event loop when it has one: an answer then resumes its unit without a thread hop.
        try await withTaskExecutorPreference(loop) {
            try await forEachOrdered(
                {
                    while queued.isEmpty {
                        guard inputIndex < run.inputs.count else { return nil }
                        let input = run.inputs[inputIndex]
                        guard let item = await input.receive() else {
                            inputIndex += 1
                            continue
                        }
                        // The items already waiting join it, so their units' records come in one query.
                        let items = [item] + (await input.receiveBuffered(limit: max(1, concurrency) - 1))
                        queued = items.flatMap(units(for:))
                        queued.reverse()
                        if run.mode.useCache { await store.prefetch(queued.flatMap(cacheKeys(for:))) }
                    }
                    return queued.removeLast()
                },
                // Twice the providers' slots: while one unit waits for its answer, another looks up the store or
                // checkpoints, so the providers' limiters (which bound the calls in flight) never wait on that work.
                concurrency: 2 * max(1, concurrency), transform: { unit in await self.run(unit) },
                emit: { result in
                    switch result {
                    case .done(let items, let cached, let usage, let requests):
                        if cached {
                            report.cached += 1
                            report.storedUsage += usage
                        } else {
                            report.computed += 1
                            report.usage += usage
                        }
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
                        run.shared.stop.set()
                    case .missing(let estimate):
                        if report.pending == 0 {
                            report.note("not in the checkpoint store, and --offline makes no call")
                        }
                        report.pending += 1
                        report.pendingCalls += estimate.calls
                        report.pendingUsage += Usage(
                            inputTokens: estimate.inputTokens, outputTokens: estimate.outputTokens,
                            costUSD: estimate.costUSD)
                    }
                    // Progress is for people: publishing every 16th result is plenty and saves an actor hop per call.
                    if (report.computed + report.cached + report.failed) % 16 == 0 { await run.publish(report) }
                }, shouldStop: run.shouldStop)
        }
        return stopReason
    }
}
