import Foundation
package import KilnBasics
import KilnModel

/// Writes a judge stage's reports: summary.md, summary.json, junit.xml, report.html and results.jsonl, each
/// atomically.
package enum EvalReports {
    /// The files written, in order.
    @discardableResult
    package static func write(
        _ summary: EvalSummary, resultsFile: String, to directory: String, comparison: RunComparison? = nil,
        gate: RegressionGate? = nil
    ) throws -> [String] {
        try Folder.create(directory)
        let base = URL(fileURLWithPath: directory)
        let markdown = base.appendingPathComponent("summary.md").path
        let compared = comparison.map { "\n" + ComparisonReport.markdown($0, gate: gate) } ?? ""
        try Data((MarkdownReport.render(summary) + compared).utf8).write(
            to: URL(fileURLWithPath: markdown), options: .atomic)
        let json = base.appendingPathComponent("summary.json").path
        // Every item's scores and (cut short) texts: a committed summary.json is a baseline `--baseline` and
        // `compare` can compare item by item.
        // One item per line, so a committed baseline's diff shows which items changed.
        let items = try ScoredItem.read(resultsFile: resultsFile, details: true).map { $0.summaryJSON().serialized() }
        let document = String(summaryJSON(summary).serialized().dropLast())
        try Data((document + ",\"results\":[\n" + items.joined(separator: ",\n") + "\n]}\n").utf8).write(
            to: URL(fileURLWithPath: json), options: .atomic)
        let junit = base.appendingPathComponent("junit.xml").path
        try JUnitReport.write(summary, resultsFile: resultsFile, to: junit)
        let html = base.appendingPathComponent("report.html").path
        try HTMLReport.write(
            summary, resultsFile: resultsFile, to: html,
            comparison: comparison.map { ComparisonReport.html($0, gate: gate) } ?? "")
        let results = base.appendingPathComponent("results.jsonl").path
        if FileManager.default.fileExists(atPath: results) { try FileManager.default.removeItem(atPath: results) }
        try FileManager.default.copyItem(atPath: resultsFile, toPath: results)
        return [markdown, json, junit, html, results]
    }

    /// summary.json without its items (a run record keeps it so).
    package static func summaryJSON(_ summary: EvalSummary) -> JSONValue {
        var models = JSONObject()
        for model in summary.models {
            var scores = JSONObject()
            for (name, _) in summary.scoreTypes {
                guard let stats = summary.stats[model]?[name] else { continue }
                scores[name] = .object(
                    JSONObject([
                        ("count", .integer(stats.count)), ("mean", .double(stats.mean)),
                        ("pass_rate", .double(stats.count == 0 ? 0 : Double(stats.passes) / Double(stats.count))),
                    ]))
            }
            models[model.isEmpty ? "all" : model] = .object(scores)
        }
        let thresholds: [JSONValue] = summary.thresholds.map { outcome in
            .object(
                JSONObject([
                    ("model", outcome.model.map(JSONValue.string) ?? .null), ("score", .string(outcome.score)),
                    ("condition", .string(outcome.condition.description)),
                    ("actual", outcome.actual.map(JSONValue.double) ?? .null), ("passed", .bool(outcome.passed)),
                ]))
        }
        var agreement = JSONObject()
        for (model, stats) in summary.agreement.sorted(by: { $0.key < $1.key }) {
            func optional(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
            agreement[model.isEmpty ? "all" : model] = .object(
                JSONObject([
                    ("count", .integer(stats.count)), ("mae", .double(stats.meanAbsoluteError)),
                    ("mse", .double(stats.meanSquaredError)),
                    ("mae_normalized", .double(stats.normalizedMeanAbsoluteError)),
                    ("mse_normalized", .double(stats.normalizedMeanSquaredError)),
                    ("spearman", optional(stats.spearman)),
                    ("pearson", optional(stats.pearson)), ("kendall_tau", optional(stats.kendall)),
                ]))
        }
        return .object(
            JSONObject([
                ("pipeline", .string(summary.pipeline)), ("stage", .string(summary.stage)),
                ("passed", .bool(summary.passed)), ("partial", summary.partial.map(JSONValue.string) ?? .null),
                ("judge_vs_human", .object(agreement)),
                ("items", .integer(summary.items)), ("failed_items", .integer(summary.failedItems.count)),
                (
                    "score_types",
                    .object(JSONObject(summary.scoreTypes.map { ($0.name, JSONValue.string($0.type.rawValue)) }))
                ),
                ("models", .object(models)), ("thresholds", .array(thresholds)),
                (
                    "usage",
                    .object(
                        JSONObject([
                            ("input_tokens", .integer(summary.usage.inputTokens)),
                            ("output_tokens", .integer(summary.usage.outputTokens)),
                            ("cost_usd", .double(summary.usage.costUSD)),
                        ]))
                ),
            ]))
    }
}
