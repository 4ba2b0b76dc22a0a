import Foundation
import KilnBasics

/// `--fail-on-regression "overall: -0.2, polite: 0"`: how far each score's mean may fall between the baseline and
/// this run before the gate fails (`*` for every score not named). A score not named is not gated.
package struct RegressionGate: Sendable, Hashable {
    /// The most each score's mean may fall (a positive number; 0: it may not fall at all).
    package var allowedDrops: [String: Double]

    package init(parsing text: String) throws {
        allowedDrops = [:]
        for part in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let pair = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty, let drop = Double(pair[1]), drop.isFinite else {
                throw ActionableError(
                    "--fail-on-regression: cannot read '\(part.trimmingCharacters(in: .whitespaces))'",
                    hint: "write SCORE: TOLERANCE pairs, e.g. \"overall: -0.2, polite: 0\" (how far each score's "
                        + "mean may fall; * for every score)")
            }
            allowedDrops[pair[0]] = abs(drop)
        }
        if allowedDrops.isEmpty {
            throw ActionableError(
                "--fail-on-regression names no score", hint: "e.g. --fail-on-regression \"overall: -0.2\" or \"*: 0\"")
        }
    }

    /// How far `score`'s mean may fall, or nil when it is not gated.
    package func allowedDrop(for score: String) -> Double? { allowedDrops[score] ?? allowedDrops["*"] }

    /// Throws when the gate names a score neither run has (a typo would otherwise gate nothing).
    package func checkScores(of comparison: RunComparison) throws {
        let known = Set(comparison.rows.map(\.score))
        let unknown = allowedDrops.keys.filter { $0 != "*" && !known.contains($0) }.sorted()
        guard !unknown.isEmpty else { return }
        throw ActionableError(
            "--fail-on-regression names \(unknown.joined(separator: ", ")), which neither run scored",
            hint: known.isEmpty
                ? "the runs share no judged score: is the baseline from this pipeline?"
                : "the scores compared are " + known.sorted().joined(separator: ", "))
    }

    /// The score rows whose mean fell further than allowed.
    package func failures(in comparison: RunComparison) -> [RunComparison.ScoreRow] {
        comparison.rows.filter(fails)
    }

    /// Whether this score's mean fell further than allowed.
    package func fails(_ row: RunComparison.ScoreRow) -> Bool {
        guard let drop = allowedDrop(for: row.score) else { return false }
        return row.mean.delta < -drop - 1e-12
    }

    /// `judged/model: overall fell 0.300 (allowed 0.200)`; nil when the row did not fall further than allowed.
    package func verdict(on row: RunComparison.ScoreRow) -> String? {
        guard fails(row), let drop = allowedDrop(for: row.score) else { return nil }
        let model = row.group.isEmpty ? "(all)" : row.group
        return "\(row.stage)/\(model): \(row.score) fell \(String(format: "%.3f", -row.mean.delta)) "
            + "(allowed \(String(format: "%.3f", drop)))"
    }

    /// Every failed row's verdict, joined: what a failed gate says.
    package func verdicts(in comparison: RunComparison) -> String? {
        let verdicts = comparison.rows.compactMap(verdict(on:))
        return verdicts.isEmpty ? nil : verdicts.joined(separator: "; ")
    }

    /// The items that fell on a failed score, in the failed rows' stage and model.
    package func regressedItems(in comparison: RunComparison) -> [RunComparison.ItemRow] {
        let failed = failures(in: comparison)
        return comparison.items(.regressed).filter { item in
            failed.contains { row in
                row.stage == item.stage && row.group == item.group
                    && item.deltas.contains { $0.score == row.score && $0.after < $0.before }
            }
        }
    }
}
