import Foundation
import KilnModel

/// The Markdown summary a reviewer reads in ten seconds (also appended to GitHub's step summary).
package enum MarkdownReport {
    package static func render(_ summary: EvalSummary) -> String {
        let mark = summary.partial.map { "⚠️ partial: \($0) —" } ?? (summary.passed ? "✅" : "❌")
        var text = "## \(mark) \(summary.pipeline): \(summary.stage)\n\n"
        if summary.partial != nil {
            text +=
                "The run stopped before every item was judged: these figures cover only the items judged so far. "
                + "A rerun resumes (finished work is kept) and writes the full report.\n\n"
        }
        text += "\(summary.items) items judged"
        if !summary.failedItems.isEmpty { text += ", \(summary.failedItems.count) failed to run" }
        text +=
            " · \(summary.usage.inputTokens + summary.usage.outputTokens) tokens · "
            + "$\(String(format: "%.4f", summary.usage.costUSD))\n\n"
        let names = summary.scoreTypes.map(\.name)
        text += "| model | " + names.joined(separator: " | ") + " |\n"
        text += "|---|" + names.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for model in summary.models {
            let cells = summary.scoreTypes.map { name, type -> String in
                guard let stats = summary.stats[model]?[name], stats.count > 0 else { return "–" }
                if summary.meanScores.contains(name) { return String(format: "%.2f mean", stats.mean) }
                return type == .fiveStar
                    ? String(format: "%.2f", stats.mean)
                    : String(format: "%.0f%% pass", 100 * Double(stats.passes) / Double(stats.count))
            }
            text += "| \(model.isEmpty ? "(all)" : escape(model)) | " + cells.joined(separator: " | ") + " |\n"
        }
        if let best = summary.bestLine { text += "\nBest per score: \(escape(best))\n" }
        if !summary.thresholds.isEmpty {
            text += "\n| | threshold | model | actual |\n|---|---|---|---:|\n"
            for outcome in summary.thresholds {
                text +=
                    "| \(outcome.passed ? "✓" : "✗") | `\(outcome.score): \(outcome.condition)` | "
                    + "\(escape(outcome.model ?? "(all)")) | "
                text += (outcome.actual.map { String(format: "%.3f", $0) } ?? "no scores") + " |\n"
            }
        }
        let agreement = summary.agreement
        if !agreement.isEmpty {
            text +=
                "\nJudge vs human ratings (overall):\n\n| model | n | MAE | MSE | MAE 0–1 | MSE 0–1 | Spearman "
                + "| Pearson | Kendall τ |\n"
            text += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            for model in summary.models {
                guard let stats = agreement[model] else { continue }
                let cells = [
                    String(stats.count), number(stats.meanAbsoluteError), number(stats.meanSquaredError),
                    number(stats.normalizedMeanAbsoluteError), number(stats.normalizedMeanSquaredError),
                    number(stats.spearman), number(stats.pearson), number(stats.kendall),
                ]
                text += "| \(model.isEmpty ? "(all)" : escape(model)) | " + cells.joined(separator: " | ") + " |\n"
            }
        }
        if !summary.worst.isEmpty {
            text +=
                "\n<details><summary>Lowest-scored items</summary>\n\n"
                + "| item | model | scores | output | expected | why |\n|---|---|---|---|---|---|\n"
            for item in summary.worst {
                let scores = item.scores.map { "\($0.name) \(format($0.value))" }.joined(separator: ", ")
                let cells = [item.output, item.expected ?? "–", item.reason ?? ""].map {
                    escape(String($0.prefix(200)))
                }
                text +=
                    "| \(escape(item.label)) | \(escape(item.model)) | \(scores) | "
                    + cells.joined(separator: " | ") + " |\n"
            }
            text += "\n</details>\n"
        }
        if !summary.failedItems.isEmpty {
            text +=
                "\nFailed to run (first ones):\n"
                + summary.failedItems.prefix(5).map { "- \(escape($0))" }.joined(separator: "\n") + "\n"
        }
        return text
    }

    static func number(_ value: Double?) -> String {
        value.map { String(format: "%.3f", $0) } ?? "–"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// Table cells cannot hold pipes or newlines, and GitHub would read `<…>` as HTML and hide it.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ")
    }
}
