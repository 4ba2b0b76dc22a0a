import Foundation
package import KilnBasics
import KilnModel

/// A comparison of two runs as a reviewer reads it: Markdown (for `$GITHUB_STEP_SUMMARY` and summary.md), JSON,
/// an HTML section for report.html, and the terminal's text.
package enum ComparisonReport {
    /// Items listed per kind at most (the JSON lists them all).
    package static let listed = 20

    /// `+0.120 [-0.050, +0.300]`: a change and its 95% interval.
    static func change(_ change: MeanChange, scale: Double = 1, digits: Int = 3) -> String {
        func signed(_ value: Double) -> String { String(format: "%+.\(digits)f", value * scale) }
        return "\(signed(change.delta)) [\(signed(change.low)), \(signed(change.high))]"
    }

    /// The mean as a report shows it: a pass/fail score's as a percentage.
    static func level(_ value: Double, _ row: RunComparison.ScoreRow) -> String {
        row.passRate != nil ? String(format: "%.1f%%", 100 * value) : String(format: "%.3f", value)
    }

    /// One line per score row: model, score, before → after, change [95% CI], and a mark when the gate failed it.
    package static func scoreCells(_ row: RunComparison.ScoreRow, gate: RegressionGate?) -> [String] {
        let failed = gate?.fails(row) ?? false
        let significance = row.mean.direction < 0 ? "↓" : row.mean.direction > 0 ? "↑" : ""
        let delta =
            row.passRate != nil
            ? change(row.passRate ?? row.mean, scale: 100, digits: 1) + " pts" : change(row.mean)
        return [
            failed ? "✗" : significance, row.stage, row.group.isEmpty ? "(all)" : row.group, row.score,
            level(row.passRate?.before ?? row.mean.before, row), level(row.passRate?.after ?? row.mean.after, row),
            delta, "\(row.countBefore)→\(row.countAfter)",
        ]
    }

    package static let scoreHeader = ["", "stage", "model", "score", "before", "after", "change [95% CI]", "items"]

    /// `q7 · candidate · contains 1 → 0, overall 4 → 2`.
    package static func itemLine(_ item: RunComparison.ItemRow) -> String {
        let deltas = item.deltas.map {
            "\($0.score) \(MarkdownReport.format($0.before)) → \(MarkdownReport.format($0.after))"
        }
        return
            ([item.key, item.group.isEmpty ? "(all)" : item.group]
            + (deltas.isEmpty ? [] : [deltas.joined(separator: ", ")]))
            .joined(separator: " · ")
    }

    package static func markdown(_ comparison: RunComparison, gate: RegressionGate?) -> String {
        let failures = gate?.failures(in: comparison) ?? []
        let mark = gate == nil ? "" : failures.isEmpty ? "✅ " : "❌ "
        var text = "## \(mark)Compared with \(MarkdownReport.escape(comparison.before))\n\n"
        text += "`\(MarkdownReport.escape(comparison.before))` → `\(MarkdownReport.escape(comparison.after))`: "
        text += summaryLine(comparison) + "\n\n"
        if !comparison.changedStages.isEmpty {
            text += "Stages asked something else: " + comparison.changedStages.map { "`\($0)`" }.joined(separator: ", ")
            text += "\n\n"
        }
        if !comparison.rows.isEmpty {
            text += "| " + scoreHeader.joined(separator: " | ") + " |\n|---|---|---|---|---:|---:|---:|---:|\n"
            for row in comparison.rows {
                text += "| " + scoreCells(row, gate: gate).map(MarkdownReport.escape).joined(separator: " | ") + " |\n"
            }
        }
        if let verdicts = gate?.verdicts(in: comparison) { text += "\nRegression gate failed: \(verdicts)\n" }
        for kind in RunComparison.Change.allCases {
            let items = comparison.items(kind)
            guard !items.isEmpty else { continue }
            let open = kind == .regressed ? " open" : ""
            text += "\n<details\(open)><summary>\(kind.rawValue.capitalized) (\(items.count))</summary>\n\n"
            for item in items.prefix(listed) {
                text += "- **\(MarkdownReport.escape(itemLine(item)))**"
                let before = item.before?.detail
                let after = item.after?.detail
                if let input = (after ?? before)?.input {
                    text += "<br>input: \(MarkdownReport.escape(String(input.prefix(300))))"
                }
                if let before { text += "<br>before: \(MarkdownReport.escape(String(before.output.prefix(300))))" }
                if let reason = before?.reason { text += " — _\(MarkdownReport.escape(String(reason.prefix(200))))_" }
                if let after { text += "<br>after: \(MarkdownReport.escape(String(after.output.prefix(300))))" }
                if let reason = after?.reason { text += " — _\(MarkdownReport.escape(String(reason.prefix(200))))_" }
                text += "\n"
            }
            if items.count > listed { text += "- … and \(items.count - listed) more (`--json` lists them all)\n" }
            text += "\n</details>\n"
        }
        return text
    }

    /// `12 items: 3 regressed, 1 improved, 0 appeared, 0 disappeared, 8 unchanged`.
    package static func summaryLine(_ comparison: RunComparison) -> String {
        let counts = RunComparison.Change.allCases.map { "\(comparison.items($0).count) \($0.rawValue)" }
        let total = comparison.items.count + comparison.unchanged
        return "\(total) items: " + counts.joined(separator: ", ") + ", \(comparison.unchanged) unchanged"
    }

    package static func json(_ comparison: RunComparison, gate: RegressionGate?) -> JSONValue {
        let failed = gate.map { Set($0.failures(in: comparison).map { "\($0.stage)|\($0.group)|\($0.score)" }) } ?? []
        func change(_ change: MeanChange?) -> JSONValue {
            guard let change else { return .null }
            return .object(
                JSONObject([
                    ("before", .double(change.before)), ("after", .double(change.after)),
                    ("delta", .double(change.delta)),
                    ("ci95", .array([.double(change.low), .double(change.high)])), ("paired", .bool(change.paired)),
                ]))
        }
        let rows: [JSONValue] = comparison.rows.map { row in
            .object(
                JSONObject([
                    ("stage", .string(row.stage)), ("model", .string(row.group)), ("score", .string(row.score)),
                    ("count_before", .integer(row.countBefore)), ("count_after", .integer(row.countAfter)),
                    ("mean", change(row.mean)), ("pass_rate", change(row.passRate)),
                    ("regression", .bool(failed.contains("\(row.stage)|\(row.group)|\(row.score)"))),
                ]))
        }
        func side(_ item: ScoredItem?) -> JSONValue { item.map { $0.summaryJSON() } ?? .null }
        let items: [JSONValue] = comparison.items.map { item in
            .object(
                JSONObject([
                    ("stage", .string(item.stage)), ("change", .string(item.change.rawValue)),
                    ("id", .string(item.key)),
                    ("model", .string(item.group)),
                    (
                        "deltas",
                        .array(
                            item.deltas.map { delta in
                                .object(
                                    JSONObject([
                                        ("score", .string(delta.score)), ("before", .double(delta.before)),
                                        ("after", .double(delta.after)),
                                    ]))
                            })
                    ),
                    ("before", side(item.before)), ("after", side(item.after)),
                ]))
        }
        var object = JSONObject([
            ("before", .string(comparison.before)), ("after", .string(comparison.after)),
            ("changed_stages", .array(comparison.changedStages.map(JSONValue.string))),
            ("unchanged", .integer(comparison.unchanged)), ("scores", .array(rows)), ("items", .array(items)),
        ])
        if let gate {
            object["regressed"] = .bool(!gate.failures(in: comparison).isEmpty)
            object["gated_items"] = .array(gate.regressedItems(in: comparison).map { .string($0.key) })
        }
        return .object(object)
    }

    /// The comparison as a section of report.html.
    package static func html(_ comparison: RunComparison, gate: RegressionGate?) -> String {
        func escape(_ text: String) -> String { HTMLReport.escape(text) }
        var html = "<h2 id=\"compare\">Compared with \(escape(comparison.before))</h2>\n"
        html += "<p>\(escape(summaryLine(comparison)))</p>\n<table class=\"sortable\"><thead><tr>"
        html += scoreHeader.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in comparison.rows {
            html += "<tr>" + scoreCells(row, gate: gate).map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</tbody></table>\n"
        for kind in RunComparison.Change.allCases {
            let items = comparison.items(kind)
            guard !items.isEmpty else { continue }
            html += "<h3>\(kind.rawValue.capitalized) (\(items.count))</h3>\n<table><tr><th>item</th><th>before</th>"
            html += "<th>after</th></tr>\n"
            for item in items.prefix(HTMLReport.maxRows) {
                func cell(_ detail: ScoredItem.Detail?) -> String {
                    guard let detail else { return "<td>–</td>" }
                    return "<td class=\"t\">\(escape(detail.output))"
                        + (detail.reason.map { "<br><i>\(escape($0))</i>" } ?? "") + "</td>"
                }
                html += "<tr><td class=\"t\">\(escape(itemLine(item)))"
                html += ((item.after ?? item.before)?.detail.map { "<br>\(escape($0.input))" } ?? "") + "</td>"
                html += cell(item.before?.detail) + cell(item.after?.detail) + "</tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }
}
