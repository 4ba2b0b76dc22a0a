import KilnModel

extension StageReport {
    /// Counts one unit's result — served from the store or computed (with what it cost), failed (its reason
    /// noted), missing offline (what it would cost) — and returns the items a finished unit produced. A stopped
    /// unit counts nothing: the caller stops.
    mutating func count(_ result: UnitResult) -> [PipelineItem] {
        switch result {
        case .done(let items, let cached, let usage, let requests):
            if cached {
                self.cached += 1
                storedUsage += usage
            } else {
                computed += 1
                self.usage += usage
            }
            self.requests += requests
            return items
        case .failed(let reason, let usage, let requests):
            self.usage += usage
            self.requests += requests
            fail(reason)
        case .missing(let estimate):
            if pending == 0 { note("not in the checkpoint store, and --offline makes no call") }
            pending += 1
            pendingCalls += estimate.calls
            pendingUsage += Usage(
                inputTokens: estimate.inputTokens, outputTokens: estimate.outputTokens, costUSD: estimate.costUSD)
        case .stopped:
            break
        }
        return []
    }
}
