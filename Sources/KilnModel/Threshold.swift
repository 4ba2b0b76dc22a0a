import KilnBasics

/// A comparison in a threshold or `where:` condition.
package enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case greaterOrEqual = ">="
    case lessOrEqual = "<="
    case equal = "=="
    case notEqual = "!="
    case greater = ">"
    case less = "<"

    package func holds(_ lhs: Double, _ rhs: Double) -> Bool {
        switch self {
        case .greaterOrEqual: lhs >= rhs
        case .lessOrEqual: lhs <= rhs
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .greater: lhs > rhs
        case .less: lhs < rhs
        }
    }
}

/// An aggregate of one score over all judged items.
package enum ScoreMetric: Sendable, Hashable, CustomStringConvertible {
    case mean
    case median
    case min
    case max
    /// Share of items that passed (pass_fail, pass_fail_critical, assertions).
    case passRate
    case failRate
    /// Number of items rated critical (pass_fail_critical).
    case critical
    case criticalRate
    /// pNN: the NN-th percentile, 1 to 99.
    case percentile(Int)

    package static let names = [
        "mean", "median", "min", "max", "pass_rate", "fail_rate", "critical", "critical_rate", "p10",
    ]

    package init?(name: String) {
        switch name {
        case "mean": self = .mean
        case "median": self = .median
        case "min": self = .min
        case "max": self = .max
        case "pass_rate": self = .passRate
        case "fail_rate": self = .failRate
        case "critical": self = .critical
        case "critical_rate": self = .criticalRate
        default:
            guard name.hasPrefix("p"), let value = Int(name.dropFirst()), (1...99).contains(value) else { return nil }
            self = .percentile(value)
        }
    }

    package var description: String {
        switch self {
        case .mean: "mean"
        case .median: "median"
        case .min: "min"
        case .max: "max"
        case .passRate: "pass_rate"
        case .failRate: "fail_rate"
        case .critical: "critical"
        case .criticalRate: "critical_rate"
        case .percentile(let value): "p\(value)"
        }
    }

    /// Whether the metric means anything for a score of this type (`critical` needs pass_fail_critical).
    package func applies(to score: ScoreType) -> Bool {
        switch self {
        case .critical, .criticalRate: score == .passFailCritical
        case .passRate, .failRate: score != .fiveStar
        default: true
        }
    }
}

/// One condition such as `mean >= 4.2` on one score.
package struct ThresholdCondition: Sendable, Hashable, CustomStringConvertible {
    package var metric: ScoreMetric
    package var comparison: ComparisonOperator
    package var value: Double

    package init(metric: ScoreMetric, comparison: ComparisonOperator, value: Double) {
        self.metric = metric
        self.comparison = comparison
        self.value = value
    }

    /// Why a condition could not be read.
    package struct ParseError: Error, Sendable, Hashable {
        package var message: String
        package var hint: String
    }

    /// Parses `METRIC OP NUMBER`, e.g. `mean >= 4.2`, `pass_rate >= 0.95`, `critical == 0`, `p10 >= 3`.
    package init(parsing text: String) throws(ParseError) {
        let example = "write it as METRIC OP NUMBER, e.g. 'mean >= 4.2' or 'pass_rate >= 0.95'"
        if let reversed = ComparisonParts.reversedOperator(in: text) {
            throw ParseError(
                message: "'\(reversed.written)' is not a comparison operator in '\(text)'",
                hint: "did you mean '\(reversed.meant)'?")
        }
        let parts = ComparisonParts(text)
        guard let parts else {
            throw ParseError(message: "cannot read condition '\(text)'", hint: example)
        }
        guard let metric = ScoreMetric(name: parts.left) else {
            throw ParseError(
                message: "unknown metric '\(parts.left)' in '\(text)'",
                hint: NearMiss.hint(for: parts.left, among: ScoreMetric.names + ["p90"]))
        }
        guard let value = Double(parts.right), value.isFinite else {
            throw ParseError(
                message: "expected a number after '\(parts.comparison.rawValue)', got '\(parts.right)'", hint: example)
        }
        self.init(metric: metric, comparison: parts.comparison, value: value)
    }

    package var description: String { "\(metric) \(comparison.rawValue) \(value.compactDescription)" }
}

/// The conditions one score must meet.
package struct Threshold: Sendable, Hashable {
    /// `overall`, a rubric item's name, or an assertion's name.
    package var score: String
    package var conditions: [ThresholdCondition]

    package init(score: String, conditions: [ThresholdCondition]) {
        self.score = score
        self.conditions = conditions
    }
}

/// `LEFT OP RIGHT` split at the first comparison operator, each side trimmed.
package struct ComparisonParts: Sendable, Hashable {
    package var left: String
    package var comparison: ComparisonOperator
    package var right: String

    /// A reversed operator such as `=>` or `=<`, with the one the user most likely meant.
    package static func reversedOperator(in text: String) -> (written: String, meant: String)? {
        for (written, meant) in [("=>", ">="), ("=<", "<="), ("=!", "!=")] where text.contains(written) {
            return (written, meant)
        }
        return nil
    }

    package init?(_ text: String) {
        if Self.reversedOperator(in: text) != nil { return nil }
        let scalars = Array(text.unicodeScalars)
        for index in scalars.indices {
            // Two-character operators are listed first, so `>=` wins over `>`.
            for comparison in ComparisonOperator.allCases {
                let symbol = Array(comparison.rawValue.unicodeScalars)
                guard index + symbol.count <= scalars.count, Array(scalars[index..<index + symbol.count]) == symbol
                else { continue }
                let left = Self.trimmed(scalars[..<index])
                let right = Self.trimmed(scalars[(index + symbol.count)...])
                guard !left.isEmpty, !right.isEmpty else { return nil }
                self.left = left
                self.comparison = comparison
                self.right = right
                return
            }
        }
        return nil
    }

    private static func trimmed(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView(scalars)
        while let first = view.first, first.properties.isWhitespace { view.removeFirst() }
        while let last = view.last, last.properties.isWhitespace { view.removeLast() }
        return String(view)
    }
}
