import Foundation
import KilnFakeProvider
import Testing

/// Run history, `runs`, `compare` and `run --baseline … --fail-on-regression`, as a CI user would use them: a golden
/// set judged twice, the second time by a model known to answer worse on a known subset.
@Suite(.serialized) struct RunHistory {
    /// Questions 3, 8, 13 and 18 mention a refund: the subset `m+worse-on=refund` answers with a useless apology.
    static let subset = ["q3", "q8", "q13", "q18"]

    static func scenario(model: String = "m") throws -> RunScenario {
        let scenario = try RunScenario(
            pipeline: """
                version: 1
                name: scenario
                providers:
                  model: {kind: openai, model: "\(model)", base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
                  judge: {kind: openai, model: j, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
                task:
                  instruction: Answer the customer.
                  requirements:
                    - {name: polite, instruction: Be polite., type: pass_fail}
                stages:
                  - {id: golden, type: load, path: golden.jsonl}
                  - {id: answers, type: outputs, from: golden, models: [model]}
                  - id: judged
                    type: judge
                    from: answers
                    provider: judge
                    assertions: [{type: contains, value: "Fake answer"}]
                    thresholds: {contains: "pass_rate >= 0.5"}
                """)
        let rows = (0..<20).map { index in
            let topic = index % 5 == 3 ? "a refund for my order \(index)" : "the delivery of order \(index)"
            return #"{"id": "q\#(index)", "input": "Question about \#(topic)?", "expected": "answer \#(index)"}"#
        }
        try rows.joined(separator: "\n").write(
            to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        return scenario
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    static func compare(_ scenario: RunScenario, _ extra: [String]) throws -> KilnPipeBinary.Outcome {
        try KilnPipeBinary.run(["compare", "p.yml"] + extra, in: scenario.directory)
    }

    @Test func compareListsExactlyTheSubsetAWorseModelRegressedAndGatesOnIt() throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        try scenario.editPipeline { $0.replacingOccurrences(of: #"model: "m""#, with: #"model: "m+worse-on=refund""#) }
        let second = try scenario.run()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")

        let runs = try KilnPipeBinary.run(["runs", "p.yml", "--json"], in: scenario.directory)
        let recorded = try #require(try Self.json(runs.stdout)["runs"] as? [[String: Any]])
        #expect(recorded.count == 2)
        #expect(recorded.map { $0["verdict"] as? String } == ["passed", "passed"])
        let ids = recorded.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 2 && ids.allSatisfy { $0.wholeMatch(of: /\d{8}-\d{6}-[0-9a-f]{6}/) != nil }, "\(ids)")

        let compared = try Self.compare(scenario, ["--json"])
        #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
        let document = try Self.json(compared.stdout)
        #expect(document["before"] as? String == ids[0] && document["after"] as? String == ids[1])
        let items = try #require(document["items"] as? [[String: Any]])
        let regressed = items.filter { $0["change"] as? String == "regressed" }
        #expect(regressed.compactMap { $0["id"] as? String }.sorted() == Self.subset.sorted(), "\(items)")
        #expect(items.allSatisfy { $0["change"] as? String == "regressed" }, "nothing else changed: \(items)")
        #expect(document["unchanged"] as? Int == 16)
        #expect((document["changed_stages"] as? [String]) == ["answers", "judged"])
        // Each regressed item carries its input, both outputs and both reasons.
        let first3 = try #require(regressed.first { $0["id"] as? String == "q3" })
        let before = try #require(first3["before"] as? [String: Any])
        let after = try #require(first3["after"] as? [String: Any])
        #expect((before["output"] as? String)?.hasPrefix("Fake answer") == true, "\(before)")
        #expect(after["output"] as? String == "Sorry, as an AI I cannot help with that.")
        #expect((after["reason"] as? String)?.contains("does not contain 'Fake answer'") == true, "\(after)")
        #expect((after["input"] as? String)?.contains("refund") == true)
        let contains = try #require(
            (document["scores"] as? [[String: Any]])?.first { $0["score"] as? String == "contains" })
        let mean = try #require(contains["mean"] as? [String: Any])
        #expect(abs((mean["delta"] as? Double ?? 0) + 0.2) < 1e-9, "4 of 20 stopped passing: \(mean)")
        let interval = try #require(mean["ci95"] as? [Double])
        #expect(interval[0] <= -0.2 && interval[1] >= -0.2 && interval[1] < 0, "\(interval)")
        #expect(mean["paired"] as? Bool == true)

        let gated = try Self.compare(scenario, ["--fail-on-regression", "contains: -0.1"])
        #expect(gated.status == 1, "\(gated.stdout)\(gated.stderr)")
        #expect(gated.stdout.contains("regressed items: q3, q8, q13, q18"), "\(gated.stdout)")
        let tolerated = try Self.compare(scenario, ["--fail-on-regression", "contains: -0.25"])
        #expect(tolerated.status == 0, "a fall of 0.2 is within 0.25: \(tolerated.stdout)")
        let markdown = try Self.compare(scenario, ["--markdown", "--fail-on-regression", "contains: 0"])
        #expect(markdown.stdout.hasPrefix("## ❌ Compared with \(ids[0])"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("<details open><summary>Regressed (4)</summary>"))

        // Nothing changed: the rerun makes no call, and the comparison of the last two runs finds nothing.
        let requests = scenario.fake.currentStatistics.requests
        let third = try scenario.run()
        #expect(third.status == 0)
        #expect(scenario.fake.currentStatistics.requests == requests, "an unchanged rerun makes no call")
        let same = try Self.compare(scenario, ["--json", "--fail-on-regression", "*: 0"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let unchanged = try Self.json(same.stdout)
        #expect((unchanged["items"] as? [Any])?.isEmpty == true)
        #expect(unchanged["unchanged"] as? Int == 20)
        #expect(unchanged["regressed"] as? Bool == false)
        #expect(scenario.fake.currentStatistics.requests == requests, "compare makes no call")

        // Each run keeps, per stage, the digest of the unit keys it looked up: equal for the unchanged rerun, other
        // for the run whose model changed.
        let history = try KilnPipeBinary.run(["runs", "p.yml", "--json"], in: scenario.directory)
        let all = try #require(try Self.json(history.stdout)["runs"] as? [[String: Any]])
        func unitKeys(_ run: [String: Any], _ stage: String) -> String? {
            (run["stages"] as? [[String: Any]])?.first { $0["id"] as? String == stage }?["unit_keys"] as? String
        }
        #expect(all.count == 3)
        #expect(unitKeys(all[0], "answers")?.hasPrefix("20:") == true, "\(all[0])")
        #expect(unitKeys(all[1], "answers") != unitKeys(all[0], "answers"))
        #expect(unitKeys(all[2], "answers") == unitKeys(all[1], "answers"))
        #expect(unitKeys(all[2], "judged") == unitKeys(all[1], "judged"))
    }

    @Test func runAgainstACommittedSummaryGatesTheRunAndAddsTheComparisonToTheReports() throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        let reports = scenario.directory.appendingPathComponent(".kiln-pipe/reports/scenario/judged")
        let committed = scenario.directory.appendingPathComponent("baseline.json")
        try FileManager.default.copyItem(at: reports.appendingPathComponent("summary.json"), to: committed)
        let summary = try Self.json(try String(contentsOf: committed, encoding: .utf8))
        #expect((summary["results"] as? [Any])?.count == 20, "summary.json lists every item's scores")

        try scenario.editPipeline { $0.replacingOccurrences(of: #"model: "m""#, with: #"model: "m+worse-on=refund""#) }
        let stepSummary = scenario.directory.appendingPathComponent("step-summary.md")
        _ = FileManager.default.createFile(atPath: stepSummary.path, contents: nil)
        let gated = try KilnPipeBinary.run(
            ["run", "p.yml", "--baseline", "baseline.json", "--fail-on-regression", "contains: 0"],
            in: scenario.directory, environment: ["FAKE_KEY": "k", "GITHUB_STEP_SUMMARY": stepSummary.path])
        #expect(gated.status == 1, "\(gated.stdout)\(gated.stderr)")
        #expect(
            gated.stderr.contains("regressed against baseline.json: judged/model: contains fell 0.200 (allowed 0.000)"),
            "\(gated.stderr)")
        #expect(gated.stdout.contains("regressed items: q3, q8, q13, q18"), "\(gated.stdout)")
        let markdown = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(markdown.contains("## ❌ Compared with baseline.json"), "\(markdown)")
        let step = try String(contentsOf: stepSummary, encoding: .utf8)
        #expect(step.contains("Compared with baseline.json") && step.contains("Regressed (4)"), "\(step)")
        let html = try String(contentsOf: reports.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains(#"<h2 id="compare">Compared with baseline.json</h2>"#))
        #expect(html.contains("Sorry, as an AI I cannot help with that."))

        // The history says the same: the gated run is recorded as failed.
        let runs = try KilnPipeBinary.run(["runs", "p.yml"], in: scenario.directory)
        #expect(runs.stdout.split(separator: "\n").dropFirst().first?.contains("failed") == true, "\(runs.stdout)")
        // A run id as baseline works the same; the previous run, unchanged, passes.
        let again = try KilnPipeBinary.run(
            ["run", "p.yml", "--quiet", "--baseline", "last", "--fail-on-regression", "*: 0"], in: scenario.directory,
            environment: ["FAKE_KEY": "k"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    }

    @Test func badSelectionsAndGatesAreClearErrors() throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        let none = try Self.compare(scenario, [])
        #expect(none.status == 2, "\(none.stdout)\(none.stderr)")
        #expect(none.stderr.contains("no run is recorded yet") || none.stderr.contains("no checkpoint store"))
        #expect(try scenario.run().status == 0)
        let cases: [([String], String)] = [
            (["last~1"], "there is no run 'last~1': the pipeline has 1 recorded run"),
            (["20990101"], "no run '20990101' is recorded for this pipeline"),
            (
                ["last", "last", "--fail-on-regression", "overal: 0"],
                "--fail-on-regression names overal, which neither"
            ),
            (["last", "last", "--fail-on-regression", "overall -0.2"], "cannot read 'overall -0.2'"),
        ]
        for (arguments, message) in cases {
            let outcome = try Self.compare(scenario, arguments)
            #expect(outcome.status == 2, "\(arguments): \(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
        }
        let noBaseline = try scenario.run(["--fail-on-regression", "overall: 0"])
        #expect(noBaseline.status == 2 && noBaseline.stderr.contains("--fail-on-regression needs --baseline"))
    }

    @Test func aRunInAGitWorkTreeRecordsItsCommit() throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        let git = scenario.directory.appendingPathComponent(".git")
        try FileManager.default.createDirectory(
            at: git.appendingPathComponent("refs/heads"), withIntermediateDirectories: true)
        let commit = String(repeating: "ab12", count: 10)
        try "ref: refs/heads/main\n".write(to: git.appendingPathComponent("HEAD"), atomically: true, encoding: .utf8)
        try "# pack-refs\n\(commit) refs/heads/main\n".write(
            to: git.appendingPathComponent("packed-refs"), atomically: true, encoding: .utf8)
        #expect(try scenario.run().status == 0)
        let runs = try KilnPipeBinary.run(["runs", "p.yml", "--json"], in: scenario.directory)
        let recorded = try #require(try Self.json(runs.stdout)["runs"] as? [[String: Any]])
        #expect(recorded.first?["git_commit"] as? String == commit, "\(runs.stdout)")
        let text = try KilnPipeBinary.run(["runs", "p.yml"], in: scenario.directory)
        #expect(text.stdout.contains(" ab12ab1 "), "\(text.stdout)")
    }
}
