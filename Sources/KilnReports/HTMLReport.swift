import Foundation
import KilnBasics
import KilnModel

/// A self-contained static HTML report: no network, no framework; inline CSS, inline SVG charts and a few lines
/// of plain JavaScript to sort the item table.
package enum HTMLReport {
    /// Rows of the item table at most; a larger run says so and keeps the worst items in the Markdown summary.
    package static let maxRows = 2000

    /// The headline's verdict: passed, failed, or partial with why.
    static func verdict(_ summary: EvalSummary) -> String {
        if let partial = summary.partial { return "⚠ partial: \(escape(partial))" }
        return summary.passed ? "✓ passed" : "✗ failed"
    }

    /// `comparison`: an HTML section comparing the run with a baseline, shown before the items.
    package static func write(
        _ summary: EvalSummary, resultsFile: String, to path: String, comparison: String = ""
    ) throws {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, \
            initial-scale=1">
            <title>\(escape("\(summary.pipeline): \(summary.stage)"))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1b1f24;max-width:1200px}
            h1{font-size:22px} h2{font-size:17px;margin-top:28px} .pass{color:#1a7f37} .fail{color:#cf222e}
            table{border-collapse:collapse;margin:8px 0} th,td{border:1px solid #d0d7de;padding:4px \
            8px;vertical-align:top;text-align:left}
            th{background:#f6f8fa;cursor:pointer;user-select:none} \
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            .charts{display:flex;flex-wrap:wrap;gap:16px} .chart{border:1px solid #d0d7de;border-radius:6px;padding:8px}
            .chart h3{font-size:13px;margin:0 0 4px} td.t{max-width:380px;white-space:pre-wrap;word-break:break-word}
            </style></head><body>
            <h1><span class="\(summary.passed ? "pass" : "fail")">\(verdict(summary))</span> \
            \(escape(summary.pipeline)) · \(escape(summary.stage))</h1>
            <p>\(summary.items) items judged · \(summary.usage.inputTokens + summary.usage.outputTokens) tokens \
            · $\(String(format: "%.4f", summary.usage.costUSD))</p>

            """
        html += thresholdsSection(summary)
        html += distributions(summary)
        html += scatterSection(summary)
        html += try matrixSection(summary, resultsFile: resultsFile)
        html += comparison
        html += try itemTable(summary, resultsFile: resultsFile)
        html += """
            <script>
            document.querySelectorAll("table.sortable th").forEach(function (header, column) {
              header.addEventListener("click", function () {
                var body = header.closest("table").tBodies[0], rows = Array.from(body.rows);
                var ascending = header.dataset.order !== "asc"; header.dataset.order = ascending ? "asc" : "desc";
                rows.sort(function (a, b) {
                  var x = a.cells[column].dataset.v || a.cells[column].textContent, y = \
                  b.cells[column].dataset.v || b.cells[column].textContent;
                  var p = parseFloat(x), q = parseFloat(y);
                  var order = (!isNaN(p) && !isNaN(q)) ? p - q : x.localeCompare(y);
                  return ascending ? order : -order;
                });
                rows.forEach(function (row) { body.appendChild(row); });
              });
            });
            </script>
            </body></html>

            """
        try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func thresholdsSection(_ summary: EvalSummary) -> String {
        guard !summary.thresholds.isEmpty else { return "" }
        var html =
            "<h2>Thresholds</h2>\n<table><tr><th></th><th>score</th><th>condition</th><th>model</th>"
            + "<th>actual</th></tr>\n"
        for outcome in summary.thresholds {
            html +=
                "<tr><td class=\"\(outcome.passed ? "pass" : "fail")\">\(outcome.passed ? "✓" : "✗")</td>"
                + "<td>\(escape(outcome.score))</td>"
            html +=
                "<td><code>\(escape(outcome.condition.description))</code></td>"
                + "<td>\(escape(outcome.model ?? "all"))</td>"
            html += "<td class=\"n\">\(outcome.actual.map { String(format: "%.3f", $0) } ?? "no scores")</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// With several models or variants: the best per score, and the matrix — a row per input, a column per
    /// variant, the overall score (or the item's lowest) in each cell, every score in its tooltip.
    private static func matrixSection(_ summary: EvalSummary, resultsFile: String) throws -> String {
        guard summary.models.count > 1 else { return "" }
        var html = "<h2 id=\"matrix\">Variants</h2>\n<table><tr><th>score</th><th>best</th><th>mean</th></tr>\n"
        for best in summary.best {
            html += "<tr><td>\(escape(best.score))</td><td>\(escape(best.group))</td>"
            html += "<td class=\"n\">\(String(format: "%.3f", best.mean))</td></tr>\n"
        }
        html += "</table>\n"
        var rows: [String] = []
        var cells: [String: [String: ScoredItem]] = [:]
        for item in try ScoredItem.read(resultsFile: resultsFile) {
            if cells[item.key] == nil {
                guard rows.count < maxRows else { continue }
                rows.append(item.key)
            }
            cells[item.key, default: [:]][item.group] = item
        }
        html += "<table class=\"sortable matrix\"><thead><tr><th>item</th>"
        html += summary.models.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr><td>\(escape(row))</td>"
            for model in summary.models {
                guard let item = cells[row]?[model] else {
                    html += "<td>–</td>"
                    continue
                }
                let value = item.scores["overall"] ?? item.scores.values.min() ?? 0
                let all = item.scores.sorted { $0.key < $1.key }.map { "\($0.key) \(MarkdownReport.format($0.value))" }
                html += "<td class=\"n\" data-v=\"\(value)\" title=\"\(escape(all.joined(separator: ", ")))\">"
                html += "\(MarkdownReport.format(value))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// One bar chart per model and score.
    private static func distributions(_ summary: EvalSummary) -> String {
        var html = "<h2>Score distributions</h2>\n"
        for model in summary.models {
            html += "<h3>\(escape(model.isEmpty ? "all items" : model))</h3><div class=\"charts\">\n"
            for (name, type) in summary.scoreTypes {
                guard let bins = summary.histograms[model]?[name] else { continue }
                html +=
                    "<div class=\"chart\"><h3>\(escape(name)) · mean "
                    + "\(String(format: "%.2f", summary.stats[model]?[name]?.mean ?? 0))</h3>"
                html += barChart(bins, labels: EvalSummary.binLabels(type)) + "</div>\n"
            }
            html += "</div>\n"
        }
        return html
    }

    static func barChart(_ counts: [Int], labels: [String]) -> String {
        let width = 36 * counts.count + 20
        let height = 140
        let top = max(counts.max() ?? 1, 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\">"
        for (index, count) in counts.enumerated() {
            let barHeight = Int(Double(count) / Double(top) * 100)
            let x = 10 + index * 36
            svg +=
                "<rect x=\"\(x)\" y=\"\(115 - barHeight)\" width=\"28\" height=\"\(barHeight)\" "
                + "fill=\"#4f8ef7\"><title>\(escape(labels[index])): \(count)</title></rect>"
            svg +=
                "<text x=\"\(x + 14)\" y=\"\(111 - barHeight)\" font-size=\"10\" text-anchor=\"middle\">\(count)</text>"
            svg +=
                "<text x=\"\(x + 14)\" y=\"130\" font-size=\"10\" "
                + "text-anchor=\"middle\">\(escape(labels[index]))</text>"
        }
        return svg + "</svg>"
    }

    /// Judge (x) against human (y) for items with a human rating.
    private static func scatterSection(_ summary: EvalSummary) -> String {
        let agreement = summary.agreement
        guard !agreement.isEmpty else { return "" }
        var html = "<h2>Judge vs human</h2><div class=\"charts\">\n"
        for model in summary.models {
            guard let pairs = summary.ratingPairs[model], let stats = agreement[model] else { continue }
            let all = pairs.judge + pairs.human
            let low = all.min() ?? 0
            let high = max(all.max() ?? 1, low + 1)
            func scale(_ value: Double) -> Double { 20 + (value - low) / (high - low) * 200 }
            var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"240\" role=\"img\">"
            svg += "<line x1=\"20\" y1=\"220\" x2=\"220\" y2=\"20\" stroke=\"#d0d7de\"/>"
            for (judge, human) in zip(pairs.judge, pairs.human) {
                svg +=
                    "<circle cx=\"\(String(format: "%.1f", scale(judge)))\" "
                    + "cy=\"\(String(format: "%.1f", 240 - scale(human)))\" r=\"4\" fill=\"#4f8ef7\" "
                    + "fill-opacity=\"0.5\"><title>judge \(judge), human \(human)</title></circle>"
            }
            svg += "</svg>"
            html +=
                "<div class=\"chart\"><h3>\(escape(model.isEmpty ? "all" : model)) · n \(stats.count) · MAE "
                + "\(String(format: "%.3f", stats.meanAbsoluteError)) · Spearman "
                + "\(stats.spearman.map { String(format: "%.3f", $0) } ?? "–")</h3>"
            html += svg + "<div>x: judge · y: human</div></div>\n"
        }
        return html + "</div>\n"
    }

    private static func itemTable(_ summary: EvalSummary, resultsFile: String) throws -> String {
        let names = summary.scoreTypes.map(\.name)
        var html =
            "<h2>Items</h2>\n<table "
            + "class=\"sortable\"><thead><tr><th>item</th><th>model</th><th>input</th><th>output</th><th>expected</th>"
        html += names.map { "<th>\(escape($0))</th>" }.joined() + "<th>why</th></tr></thead><tbody>\n"
        let reader = try LineReader(path: resultsFile)
        var rows = 0
        while let line = reader.next() {
            guard rows < maxRows else { break }
            guard let item = try? JSONValue(parsing: line) else { continue }
            rows += 1
            html +=
                "<tr><td>\(escape(EvalSummary.label(of: item)))</td>"
                + "<td>\(escape(ItemGroup.of(item)))</td>"
            html +=
                "<td class=\"t\">\(escape(EvalSummary.text(item["input"])))</td><td "
                + "class=\"t\">\(escape(EvalSummary.text(item["output"])))</td>"
                + "<td class=\"t\">\(escape(item["expected"].map(EvalSummary.text) ?? "–"))</td>"
            for name in names {
                let value = item["scores"]?[name]?.numberValue
                html +=
                    "<td class=\"n\" "
                    + "data-v=\"\(value.map { String($0) } ?? "")\">\(value.map(MarkdownReport.format) ?? "–")</td>"
            }
            let failures = item["assertion_failures"]?.objectValue.map {
                $0.map { "\($0.key): \($0.value.stringValue ?? "")" }.joined(separator: "\n")
            }
            let reason = [item["judge"]?["reasoning"]?.stringValue, failures].compactMap { $0 }.joined(separator: "\n")
            html += "<td class=\"t\">\(escape(reason))</td></tr>\n"
        }
        html += "</tbody></table>\n"
        if summary.items > rows {
            html += "<p>Showing the first \(rows) of \(summary.items) items; results.jsonl has them all.</p>\n"
        }
        return html
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
