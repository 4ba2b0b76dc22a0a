import Foundation
import KilnBasics
package import KilnModel

/// JUnit XML: one test suite per model with one test case per item × score, named by the item's label (the user's
/// id, else file:line), and a suite for the thresholds themselves. The cut-offs: a five_star score fails below 3
/// (`< 3`, so 3 passes); a pass_fail or pass_fail_critical score fails below 0.5 (fail = 0, critical = -1; a
/// g_eval probability under 0.5). A failure carries the judge's reason, the output and the expected answer. The
/// thresholds — not these cases — decide the exit code.
package enum JUnitReport {
    /// Streams the results file into `path`.
    package static func write(_ summary: EvalSummary, resultsFile: String, to path: String) throws {
        var cases: [String: [String]] = [:]
        var failures: [String: Int] = [:]
        let types = Dictionary(uniqueKeysWithValues: summary.scoreTypes.map { ($0.name, $0.type) })
        let reader = try LineReader(path: resultsFile)
        while let line = reader.next() {
            guard let item = try? JSONValue(parsing: line) else { continue }
            let model = item["variant"] == nil && item["model"] == nil ? "all" : ItemGroup.of(item)
            let id = EvalSummary.label(of: item)
            for (name, value) in item["scores"]?.objectValue ?? JSONObject() {
                guard let number = value.numberValue else { continue }
                let type = types[name] ?? .passFail
                let failed = number < cutOff(type)
                var testcase =
                    "    <testcase classname=\"\(escape("\(summary.stage).\(model)"))\" "
                    + "name=\"\(escape("\(id): \(name)"))\">"
                if failed {
                    failures[model, default: 0] += 1
                    var reason =
                        item["assertion_failures"]?[name]?.stringValue ?? item["judge"]?["reasoning"]?.stringValue ?? ""
                    reason += "\noutput: \(EvalSummary.text(item["output"]))"
                    if let expected = item["expected"] { reason += "\nexpected: \(EvalSummary.text(expected))" }
                    let message = escape("\(name) = \(MarkdownReport.format(number))")
                    testcase += "\n      <failure message=\"\(message)\">\(escape(reason))</failure>\n    "
                }
                testcase += "</testcase>"
                cases[model, default: []].append(testcase)
            }
        }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let stopped = summary.partial == nil ? 0 : 1
        let total = cases.values.reduce(0) { $0 + $1.count } + summary.thresholds.count + stopped
        let totalFailures = failures.values.reduce(0, +) + summary.thresholds.filter { !$0.passed }.count + stopped
        xml += "<testsuites name=\"\(escape(summary.pipeline))\" tests=\"\(total)\" failures=\"\(totalFailures)\">\n"
        for model in cases.keys.sorted() {
            let suiteCases = cases[model] ?? []
            xml +=
                "  <testsuite name=\"\(escape("\(summary.stage) / \(model)"))\" tests=\"\(suiteCases.count)\" "
                + "failures=\"\(failures[model] ?? 0)\">\n"
            xml += suiteCases.joined(separator: "\n") + "\n  </testsuite>\n"
        }
        if !summary.thresholds.isEmpty {
            let failed = summary.thresholds.filter { !$0.passed }.count
            xml +=
                "  <testsuite name=\"\(escape("\(summary.stage) / thresholds"))\" "
                + "tests=\"\(summary.thresholds.count)\" failures=\"\(failed)\">\n"
            for outcome in summary.thresholds {
                let name = "\(outcome.model.map { "\($0): " } ?? "")\(outcome.score) \(outcome.condition)"
                xml += "    <testcase classname=\"\(escape("\(summary.stage).thresholds"))\" name=\"\(escape(name))\">"
                if !outcome.passed {
                    let actual = outcome.actual.map { String(format: "%.4f", $0) } ?? "no scores"
                    xml += "<failure message=\"\(escape("actual \(actual)"))\"/>"
                }
                xml += "</testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        if let partial = summary.partial {
            // A stopped run fails its own test case: CI never reads a partial report as a pass.
            xml +=
                "  <testsuite name=\"\(escape("\(summary.stage) / run"))\" tests=\"1\" failures=\"1\">\n"
                + "    <testcase classname=\"\(escape("\(summary.stage).run"))\" name=\"every item judged\">"
                + "<failure message=\"\(escape("partial: \(partial)"))\"/></testcase>\n  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        try Data(xml.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// A score below this fails its test case.
    package static func cutOff(_ type: ScoreType) -> Double { type == .fiveStar ? 3 : 0.5 }

    /// XML text and attribute escaping; characters XML 1.0 forbids are dropped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
