package import KilnModel

/// How well a judge agrees with people: error and correlation statistics over (judge, human) score pairs.
package struct Agreement: Sendable, Hashable {
    package var count: Int
    package var meanAbsoluteError: Double
    package var meanSquaredError: Double
    /// The same, on scores scaled to 0–1 (five_star (x-1)/4, pass_fail x, pass_fail_critical (x+1)/2).
    package var normalizedMeanAbsoluteError: Double
    package var normalizedMeanSquaredError: Double
    /// Nil when either side has no variance.
    package var pearson: Double?
    package var spearman: Double?
    /// Kendall's tau-b, which accounts for ties.
    package var kendall: Double?

    /// Nil with fewer than two pairs.
    package init?(judge: [Double], human: [Double], type: ScoreType) {
        guard judge.count == human.count, judge.count >= 2 else { return nil }
        count = judge.count
        let n = Double(count)
        let differences = zip(judge, human).map { $0 - $1 }
        meanAbsoluteError = differences.reduce(0) { $0 + abs($1) } / n
        meanSquaredError = differences.reduce(0) { $0 + $1 * $1 } / n
        let scaled = zip(judge, human).map { Self.normalized($0, type) - Self.normalized($1, type) }
        normalizedMeanAbsoluteError = scaled.reduce(0) { $0 + abs($1) } / n
        normalizedMeanSquaredError = scaled.reduce(0) { $0 + $1 * $1 } / n
        pearson = Self.pearson(judge, human)
        spearman = Self.pearson(Self.ranks(judge), Self.ranks(human))
        kendall = Self.kendallTauB(judge, human)
    }

    static func normalized(_ value: Double, _ type: ScoreType) -> Double {
        switch type {
        case .fiveStar: (value - 1) / 4
        case .passFail: value
        case .passFailCritical: (value + 1) / 2
        }
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        let n = Double(x.count)
        let meanX = x.reduce(0, +) / n
        let meanY = y.reduce(0, +) / n
        var covariance = 0.0
        var varianceX = 0.0
        var varianceY = 0.0
        for (a, b) in zip(x, y) {
            covariance += (a - meanX) * (b - meanY)
            varianceX += (a - meanX) * (a - meanX)
            varianceY += (b - meanY) * (b - meanY)
        }
        guard varianceX > 0, varianceY > 0 else { return nil }
        return covariance / (varianceX * varianceY).squareRoot()
    }

    /// 1-based ranks, ties sharing their average rank.
    static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = average }
            start = end + 1
        }
        return ranks
    }

    /// Tau-b = (concordant − discordant) / sqrt((n0 − n1)(n0 − n2)), counting pairs (O(n²): reports, not hot paths).
    static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        var concordant = 0.0
        var discordant = 0.0
        var tiesX = 0.0
        var tiesY = 0.0
        for i in 0..<x.count {
            for j in (i + 1)..<x.count {
                let dx = x[i] - x[j]
                let dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 {
                    tiesX += 1
                } else if dy == 0 {
                    tiesY += 1
                } else if (dx > 0) == (dy > 0) {
                    concordant += 1
                } else {
                    discordant += 1
                }
            }
        }
        let denominator = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
        return denominator > 0 ? (concordant - discordant) / denominator : nil
    }
}
