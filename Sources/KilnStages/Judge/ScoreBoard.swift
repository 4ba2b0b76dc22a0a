import Foundation
import KilnBasics
import KilnModel

/// Collects every judged item's scores per model, then evaluates the thresholds. It keeps one number per
/// score and item: percentiles need them all.
struct ScoreBoard {
    private(set) var values: [String: [String: [Double]]] = [:]
    private(set) var models: [String] = []

    mutating func record(_ item: PipelineItem) {
        let model = ItemGroup.of(fields: item.fields)
        if values[model] == nil { models.append(model) }
        for (name, value) in item.fields["scores"]?.objectValue ?? JSONObject() {
            if let number = value.numberValue { values[model, default: [:]][name, default: []].append(number) }
        }
    }

    func evaluate(_ thresholds: [Threshold], stage: String) -> [ThresholdOutcome] {
        var outcomes: [ThresholdOutcome] = []
        for model in models.isEmpty ? [""] : models {
            for threshold in thresholds {
                let scores = values[model]?[threshold.score] ?? []
                for condition in threshold.conditions {
                    let actual = Self.measure(condition.metric, scores)
                    outcomes.append(
                        ThresholdOutcome(
                            stage: stage, model: model.isEmpty ? nil : model, score: threshold.score,
                            condition: condition,
                            actual: actual,
                            passed: actual.map { condition.comparison.holds($0, condition.value) } ?? false))
                }
            }
        }
        return outcomes
    }

    /// A metric over one score's values; nil when there are none.
    static func measure(_ metric: ScoreMetric, _ scores: [Double]) -> Double? {
        guard !scores.isEmpty else { return nil }
        let count = Double(scores.count)
        switch metric {
        case .mean: return scores.reduce(0, +) / count
        case .median: return percentile(50, scores)
        case .min: return scores.min()
        case .max: return scores.max()
        // With g_eval a pass/fail score is a probability of passing: 0.5 and above counts as a pass, -0.5 and
        // below as critical. Written scores (1, 0, -1) count as themselves.
        case .passRate: return Double(scores.filter { $0 >= 0.5 }.count) / count
        case .failRate: return Double(scores.filter { $0 < 0.5 }.count) / count
        case .critical: return Double(scores.filter { $0 <= -0.5 }.count)
        case .criticalRate: return Double(scores.filter { $0 <= -0.5 }.count) / count
        case .percentile(let rank): return percentile(Double(rank), scores)
        }
    }

    /// Linear interpolation between closest ranks (numpy's default).
    static func percentile(_ rank: Double, _ scores: [Double]) -> Double {
        let sorted = scores.sorted()
        let position = rank / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
