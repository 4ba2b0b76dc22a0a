/// Stops new paid calls once what was spent plus what is in flight would pass the budget.
package actor BudgetTracker {
    nonisolated package let limitUSD: Double?
    package private(set) var spentUSD: Double = 0
    package private(set) var reservedUSD: Double = 0
    /// Set once a reservation was refused: nothing new is dispatched after that.
    package private(set) var exhausted = false

    package init(limitUSD: Double?) {
        self.limitUSD = limitUSD
    }

    /// Reserves `estimateUSD` for a call; false (and exhausted from then on) when it would pass the budget.
    package func reserve(_ estimateUSD: Double) -> Bool {
        guard let limitUSD else { return true }
        guard !exhausted, spentUSD + reservedUSD + estimateUSD <= limitUSD else {
            exhausted = true
            return false
        }
        reservedUSD += estimateUSD
        return true
    }

    /// Replaces a reservation by what the call really cost.
    package func settle(reserved: Double, actualUSD: Double) {
        reservedUSD = max(0, reservedUSD - reserved)
        spentUSD += actualUSD
    }
}
