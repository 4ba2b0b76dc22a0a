import KilnModel

extension UnitStage {
    /// Feeds the stage from its inputs through an ordered window of `32 × concurrency` units; filters, counts and
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
                        let keys = queued.flatMap(cacheKeys(for:))
                        report.unitKeys.add(keys)
                        if run.mode.useCache { await store.prefetch(keys) }
                    }
                    return queued.removeLast()
                },
                // Three times the providers' slots run: while one unit waits for its answer, others look up the
                // store, checkpoint, or wait to retry (a 429's Retry-After), so the providers' limiters (which bound
                // the calls in flight) never wait on that work. The window is wider still: a unit waiting a second
                // to retry holds the head of the ordered output while the others go on past it (with a window of
                // 2 × the slots, 5% of answers refused with Retry-After: 1 made a run 5× slower).
                concurrency: 3 * max(1, concurrency), window: 32 * max(1, concurrency),
                transform: { unit in await self.run(unit) },
                emit: { result in
                    if case .stopped(let reason) = result {
                        if stopReason == nil { stopReason = reason }
                        run.shared.stop.set()
                    }
                    for item in report.count(result) {
                        if let reason = filter.rejection(of: item) {
                            report.filtered += 1
                            report.note("\(item.id): filtered, \(reason)")
                        } else {
                            try await emit(item)
                            report.items += 1
                        }
                    }
                    // Progress is for people: publishing every 16th result is plenty and saves an actor hop per call.
                    if (report.computed + report.cached + report.failed) % 16 == 0 { await run.publish(report) }
                }, shouldStop: run.shouldStop)
        }
        return stopReason
    }
}
