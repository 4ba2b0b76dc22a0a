import Foundation
import KilnBasics
import KilnModel
import Testing

@testable import KilnReports

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct EvalReportFiles {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// Six judged items from two models, one with a failed assertion, a `<`, `&` and a pipe in its reason and an
    /// expected answer, one without an id of the user's (named by its file and line).
    static func resultsFile() throws -> String {
        let lines = [
            #"{"id":"q1","model":"a","input":"Where is my order?","output":"Shipped.","scores":{"overall":5,"#
                + #""polite":1,"contains":1},"judge":{"reasoning":"Clear.","input_tokens":100,"output_tokens":10,"#
                + #""cost_usd":0.001},"provenance":{"input_tokens":50,"output_tokens":5,"cost_usd":0.0005}}"#,
            #"{"id":"q2","model":"a","input":"Refund?","output":"No.","expected":"Yes, within 5 days.","#
                + #""scores":{"overall":2,"polite":0,"#
                + #""contains":0},"assertion_failures":{"contains":"does not contain 'refund'"},"#
                + #""judge":{"reasoning":"Curt & unhelpful <rude> | short.","input_tokens":100,"output_tokens":10,"#
                + #""cost_usd":0.001},"provenance":{"input_tokens":50,"output_tokens":5,"cost_usd":0.0005}}"#,
            #"{"id":"h3","source_row":"golden.jsonl:3","model":"a","input":"Gift wrap?","output":"Yes, 3 "#
                + #"EUR.","scores":{"overall":4.2,"polite":0.9,"contains":1},"judge":{"reasoning":"Fine."}}"#,
            #"{"id":"q1","model":"b","rating":4,"input":"Where is my order?","output":"Soon.","#
                + #""scores":{"overall":3,"polite":1,"contains":1},"judge":{"reasoning":"Vague."}}"#,
            #"{"id":"q2","model":"b","rating":5,"input":"Refund?","output":"A refund is on its "#
                + #"way.","scores":{"overall":5,"polite":1,"contains":1},"judge":{"reasoning":"Good."}}"#,
            #"{"id":"q3","model":"b","rating":3,"input":"Gift wrap?","output":"Yes.","scores":{"overall":4,"#
                + #""polite":1,"contains":1},"judge":{"reasoning":"Ok."}}"#,
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("results-\(UUID().uuidString).jsonl")
            .path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func summary(_ file: String) throws -> EvalSummary {
        let condition = try ThresholdCondition(parsing: "mean >= 4")
        return try EvalSummary(
            pipeline: "evals", stage: "judged", resultsFile: file,
            scoreTypes: [("overall", .fiveStar), ("polite", .passFail), ("contains", .passFail)],
            thresholds: [
                ThresholdOutcome(
                    stage: "judged", model: "a", score: "overall", condition: condition, actual: 11.2 / 3, passed: false
                ),
                ThresholdOutcome(
                    stage: "judged", model: "b", score: "overall", condition: condition, actual: 4, passed: true),
            ],
            failedItems: [])
    }

    @Test func theMarkdownSummaryMatchesItsGoldenFile() throws {
        let file = try Self.resultsFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let rendered = MarkdownReport.render(try Self.summary(file))
        let golden = Self.here.appendingPathComponent("Snapshots/summary.md")
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
            try rendered.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(rendered == expected, "differs from Snapshots/summary.md; UPDATE_SNAPSHOTS=1 rewrites it after review")
    }

    @Test func jUnitIsWellFormedXMLWithOneSuitePerModelAndTheThresholds() throws {
        let file = try Self.resultsFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("junit-\(UUID().uuidString).xml")
            .path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try JUnitReport.write(try Self.summary(file), resultsFile: file, to: output)
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: output))
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "20")
        #expect(
            root.attribute(forName: "failures")?.stringValue == "4",
            "q2/a overall, polite, contains + the failed threshold")
        let suites = try root.nodes(forXPath: "testsuite").compactMap {
            ($0 as? XMLElement)?.attribute(forName: "name")?.stringValue
        }
        #expect(suites == ["judged / a", "judged / b", "judged / thresholds"])
        let failure = try #require(try root.nodes(forXPath: "testsuite/testcase[@name='q2: overall']/failure").first)
        #expect(
            failure.stringValue == "Curt & unhelpful <rude> | short.\noutput: No.\nexpected: Yes, within 5 days.",
            "the judge's reason, escaped and read back intact, with the output and the reference answer")
        let assertion = try #require(try root.nodes(forXPath: "testsuite/testcase[@name='q2: contains']/failure").first)
        #expect(assertion.stringValue?.hasPrefix("does not contain 'refund'\noutput: No.") == true)
        // An item without the user's id is named by where it was read.
        #expect(try root.nodes(forXPath: "testsuite/testcase[@name='golden.jsonl:3: overall']").count == 1)
    }

    @Test func summaryJSONSaysWhetherTheGatePassedAndWhatTheResultsCost() throws {
        let file = try Self.resultsFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let json = EvalReports.summaryJSON(try Self.summary(file))
        #expect(json["passed"] == .bool(false))
        #expect(json["items"] == .integer(6))
        #expect(json["models"]?["a"]?["overall"]?["count"] == .integer(3))
        #expect(json["usage"]?["input_tokens"] == .integer(300))
        #expect(json["judge_vs_human"]?["b"]?["count"] == .integer(3), "only model b's items carry human ratings")
        #expect(json["judge_vs_human"]?["b"]?["mae"] == .double(2.0 / 3))
        #expect(json["judge_vs_human"]?["a"] == nil)
        #expect(abs((json["usage"]?["cost_usd"]?.numberValue ?? 0) - 0.003) < 1e-12)
    }
}

@Suite struct HTMLReportFile {
    @Test func isSelfContainedWithChartsScatterAndEscapedItems() throws {
        let file = try EvalReportFiles.resultsFile()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).html")
            .path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try HTMLReport.write(try EvalReportFiles.summary(file), resultsFile: file, to: output)
        let html = try String(contentsOfFile: output, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.hasSuffix("</html>\n"))
        #expect(
            !html.contains("src=") && !html.contains("<link") && !html.contains("href="),
            "no network: nothing loaded from elsewhere")
        #expect(
            html.components(separatedBy: "<svg").count - 1 == 2 * 3 + 1,
            "a chart per model and score, plus one scatter (model b has ratings)")
        #expect(html.contains("Curt &amp; unhelpful &lt;rude&gt; | short."))
        #expect(!html.contains("<rude>"))
        #expect(html.components(separatedBy: "<tr><td>").count - 1 >= 6, "one row per item")
        #expect(html.contains("class=\"fail\">✗ failed</span>"))
    }
}
