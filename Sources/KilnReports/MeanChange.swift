import KilnBasics

/// A change in a mean between two runs, with its 95% bootstrap confidence interval: resampled items, percentile
/// interval. Paired when both runs judged the same items (the per-item differences are resampled, which is what
/// makes a small change on the same golden set visible), independent otherwise. Seeded: the same runs always give
/// the same interval.
package struct MeanChange: Sendable, Hashable {
    package var before: Double
    package var after: Double
    package var delta: Double { after - before }
    package var low: Double
    package var high: Double
    package var paired: Bool

    /// Whether the interval lies wholly below (-1), wholly above (1) or across zero (0).
    package var direction: Int { high < 0 ? -1 : low > 0 ? 1 : 0 }

    package static let resamples = 1_000

    /// Paired: `before[i]` and `after[i]` are the same item. Nil when either side is empty.
    package init?(paired before: [Double], _ after: [Double], seed: UInt64) {
        guard !before.isEmpty, before.count == after.count else { return nil }
        let differences = zip(after, before).map { $0 - $1 }
        var generator = SplitMix64(seed: seed)
        let means = (0..<Self.resamples).map { _ in Self.resampledMean(differences, &generator) }
        let (low, high) = Self.percentiles(means)
        self.init(before: Self.mean(before), after: Self.mean(after), low: low, high: high, paired: true)
    }

    /// Independent samples. Nil when either side is empty.
    package init?(independent before: [Double], _ after: [Double], seed: UInt64) {
        guard !before.isEmpty, !after.isEmpty else { return nil }
        var generator = SplitMix64(seed: seed)
        let deltas = (0..<Self.resamples).map { _ in
            Self.resampledMean(after, &generator) - Self.resampledMean(before, &generator)
        }
        let (low, high) = Self.percentiles(deltas)
        self.init(before: Self.mean(before), after: Self.mean(after), low: low, high: high, paired: false)
    }

    private init(before: Double, after: Double, low: Double, high: Double, paired: Bool) {
        self.before = before
        self.after = after
        self.low = low
        self.high = high
        self.paired = paired
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    private static func resampledMean(_ values: [Double], _ generator: inout SplitMix64) -> Double {
        var sum = 0.0
        for _ in 0..<values.count { sum += values[Int(generator.next() % UInt64(values.count))] }
        return sum / Double(values.count)
    }

    /// The 2.5th and 97.5th percentiles.
    private static func percentiles(_ values: [Double]) -> (Double, Double) {
        let sorted = values.sorted()
        func at(_ share: Double) -> Double { sorted[min(sorted.count - 1, Int(share * Double(sorted.count)))] }
        return (at(0.025), at(0.975))
    }
}
