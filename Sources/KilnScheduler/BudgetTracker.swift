/// Keeps paid calls within a budget. Each call reserves what it is expected to cost before it goes out: the
/// worst case (`max_tokens`) for the first call of its kind, then what calls of that kind were seen to use (their
/// largest output with a margin, their input as counted by the provider). A call that does not fit waits while
/// calls in flight settle — their real cost frees what they reserved beyond it — and the budget is exhausted only
/// when nothing is in flight and the call still does not fit. So a run stops close under its budget (one call's
/// cost), not at the fraction worst-case reservations would leave.
package actor BudgetTracker {
    nonisolated package let limitUSD: Double?
    package private(set) var spentUSD: Double = 0
    package private(set) var reservedUSD: Double = 0
    /// Set once a reservation was refused: nothing new is dispatched after that.
    package private(set) var exhausted = false
    private var inFlight = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var seen: [String: Seen] = [:]

    /// What calls of one kind (provider, endpoint, worst-case output) were seen to use.
    private struct Seen {
        var largestOutput = 0
        /// Provider-counted input tokens over the estimate, at most.
        var inputRatio = 1.0
    }

    /// How much an expected output may be exceeded by the next answer: the reservation's margin.
    static let outputMargin = 1.25

    package init(limitUSD: Double?) {
        self.limitUSD = limitUSD
    }

    /// The tokens to reserve for a call of `kind` whose worst case is `estimate`.
    package func expected(kind: String, estimate: (input: Int, output: Int)) -> (input: Int, output: Int) {
        guard let seen = seen[kind] else { return estimate }
        let output = Int((Double(seen.largestOutput) * Self.outputMargin).rounded(.up))
        return (Int((Double(estimate.input) * seen.inputRatio).rounded(.up)), min(estimate.output, output))
    }

    /// Reserves `estimateUSD` for a call, waiting while calls in flight may free room; false (and exhausted from
    /// then on) when it does not fit with nothing in flight.
    package func reserve(_ estimateUSD: Double) async -> Bool {
        await reserve { estimateUSD } != nil
    }

    /// Reserves what a call of `kind` is expected to cost — `price` of the tokens `expected(kind:estimate:)`
    /// gives, priced again each time it wakes, since the calls that settled meanwhile taught what such calls use
    /// (a wait priced at the first call's worst case let one call through at a time and stopped the run at half
    /// its budget). Returns the amount reserved; nil (and exhausted from then on) when it does not fit with nothing
    /// in flight.
    package func reserve(
        kind: String, estimate: (input: Int, output: Int), price: (Int, Int) -> Double
    ) async -> Double? {
        await reserve {
            let expected = self.expected(kind: kind, estimate: estimate)
            return price(expected.input, expected.output)
        }
    }

    private func reserve(_ estimate: () -> Double) async -> Double? {
        guard let limitUSD else { return 0 }
        while true {
            let estimateUSD = estimate()
            if exhausted { return nil }
            if spentUSD + reservedUSD + estimateUSD <= limitUSD {
                reservedUSD += estimateUSD
                inFlight += 1
                return estimateUSD
            }
            if inFlight == 0 {
                exhausted = true
                wakeWaiting()
                return nil
            }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    /// Replaces a reservation by what the call really cost; `used` (when it was answered) teaches what calls of
    /// its kind use.
    package func settle(
        reserved: Double, actualUSD: Double,
        used: (kind: String, estimatedInput: Int, inputTokens: Int, outputTokens: Int)? = nil
    ) {
        inFlight = max(0, inFlight - 1)
        reservedUSD = inFlight == 0 ? 0 : max(0, reservedUSD - reserved)
        spentUSD += actualUSD
        if let used {
            var kind = seen[used.kind] ?? Seen()
            kind.largestOutput = max(kind.largestOutput, used.outputTokens)
            kind.inputRatio = max(kind.inputRatio, Double(used.inputTokens) / Double(max(1, used.estimatedInput)))
            seen[used.kind] = kind
        }
        wakeWaiting()
    }

    private func wakeWaiting() {
        let woken = waiting
        waiting = []
        for continuation in woken { continuation.resume() }
    }
}
