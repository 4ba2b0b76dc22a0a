import Foundation
import KilnFakeProvider
import Testing

/// `kiln-pipe run evals.yml` as a CI gate: exit 1 on a missed threshold, 0 when met, 3 when too many items fail.
@Suite(.serialized) struct EvalGate {
    static func pipeline(minimum: String = "1", maxErrorRate: String = "0") -> String {
        """
        version: 1
        name: scenario
        providers:
          model: {kind: openai, model: m, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1, timeout_s: 2}
          judge: {kind: openai, model: j, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1, timeout_s: 2}
        task:
          instruction: Answer the question.
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
            thresholds: {overall: "mean >= \(minimum)", contains: "pass_rate == 1"}
            max_error_rate: \(maxErrorRate)
        """
    }

    static func scenario(_ pipeline: String, faults: [FaultRule] = []) throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline, faults: faults)
        let rows = (0..<20).map { #"{"input": "Question \#($0)?"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        return scenario
    }

    @Test func exitsZeroWhenEveryThresholdHoldsAndOneWhenOneIsMissed() throws {
        let scenario = try Self.scenario(Self.pipeline(minimum: "1"))
        defer { scenario.finish() }
        let pass = try scenario.run()
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("✓  judged  model  overall   mean >= 1"), "\(pass.stdout)")
        let calls = scenario.fake.currentStatistics.requests
        try scenario.editPipeline { $0.replacingOccurrences(of: "mean >= 1", with: "mean >= 5.5") }
        let fail = try scenario.run()
        #expect(fail.status == 1, "\(fail.stdout)\(fail.stderr)")
        #expect(fail.stdout.contains("✗  judged  model  overall   mean >= 5.5"))
        #expect(fail.stderr.contains("1 threshold condition failed"))
        #expect(scenario.fake.currentStatistics.requests == calls, "changing a threshold re-judges nothing")
        let allowed = try scenario.run(["--allow-failures"])
        #expect(allowed.status == 0)
    }

    @Test func runErrorsAreExitThreeUnlessWithinMaxErrorRate() throws {
        let faults = [FaultRule(kind: .badRequest, percent: 15, attempts: .max)]
        let strict = try Self.scenario(Self.pipeline(minimum: "1", maxErrorRate: "0"), faults: faults)
        defer { strict.finish() }
        let outcome = try strict.run()
        #expect(
            outcome.status == 3,
            "a failed item is a run error, not a quality failure: \(outcome.stdout)\(outcome.stderr)")
        let tolerant = try Self.scenario(Self.pipeline(minimum: "1", maxErrorRate: "0.5"), faults: faults)
        defer { tolerant.finish() }
        let judged = try tolerant.run()
        #expect(judged.status == 0, "\(judged.stdout)\(judged.stderr)")
        #expect(judged.stderr.contains("within max_error_rate; the thresholds were judged on the rest"))
    }

    @Test func theShippedEvalsPipelineGatesOnItsThreshold() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-evals-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let common = [
            "run", "pipelines/evals.yml", "--state", scratch.appendingPathComponent("s.sqlite").path, "--out",
            scratch.path, "--quiet",
        ]
        let pass = try KilnPipeBinary.run(common)
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        let fail = try KilnPipeBinary.run(common + ["--var", "MIN_OVERALL=4.9"])
        #expect(fail.status == 1, "\(fail.stdout)\(fail.stderr)")
        #expect(fail.stdout.contains("answers  outputs  12     12      0"), "the rerun only re-evaluated thresholds")
    }
}

@Suite(.serialized) struct EvalReportsEndToEnd {
    /// The README's GitHub Actions job gates on a regression against the committed baseline: its command, as
    /// written there, passes on this repository, and fails once a model that answers worse on a known subset
    /// stands in for the candidate.
    @Test func theReadmeGateAgainstTheCommittedBaselineHolds() throws {
        let readme = try String(
            contentsOf: KilnPipeBinary.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.contains(".build/debug/kiln-pipe run pipelines/evals.yml --") })
        let command = lines[start...].prefix { !$0.contains("env:") }.joined(separator: " ")
        // Words, with a double-quoted span as one word.
        var words: [String] = []
        for (index, part) in command.split(separator: "\"", omittingEmptySubsequences: false).enumerated() {
            if index % 2 == 1 {
                words.append(String(part))
            } else {
                words += part.split(separator: " ").map(String.init)
            }
        }
        let arguments = Array(words.drop { !$0.hasSuffix("kiln-pipe") }.dropFirst())
        #expect(arguments.starts(with: ["run", "pipelines/evals.yml"]), "\(arguments)")
        #expect(arguments.contains("--baseline") && arguments.contains("--fail-on-regression"), "\(arguments)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-gate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let local = [
            "--state", scratch.appendingPathComponent("s.sqlite").path, "--out",
            scratch.appendingPathComponent("o").path,
            "--report-dir", scratch.appendingPathComponent("r").path,
        ]
        let pass = try KilnPipeBinary.run(arguments + local)
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("no regression beyond --fail-on-regression"), "\(pass.stdout)")
        let worse = try KilnPipeBinary.run(
            arguments + local + ["--var", "CANDIDATE_MODEL=fake-candidate+worse-on=return"])
        #expect(worse.status == 1, "\(worse.stdout)\(worse.stderr)")
        #expect(worse.stderr.contains("regressed against pipelines/baselines/evals-summary.json"), "\(worse.stderr)")
    }

    @Test func aRunWritesAllReportsAppendsTheStepSummaryAndARerunRewritesThemIdentically() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stepSummary = scratch.appendingPathComponent("step-summary.md")
        try "# earlier step\n".write(to: stepSummary, atomically: true, encoding: .utf8)
        let reports = scratch.appendingPathComponent("reports")
        let arguments = [
            "run", "pipelines/evals.yml", "--state", scratch.appendingPathComponent("s.sqlite").path, "--out",
            scratch.appendingPathComponent("out").path, "--report-dir", reports.path, "--quiet", "--var",
            "MIN_OVERALL=4.9",
        ]
        let first = try KilnPipeBinary.run(arguments, environment: ["GITHUB_STEP_SUMMARY": stepSummary.path])
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        let names = ["summary.md", "summary.json", "junit.xml", "report.html", "results.jsonl"]
        let contents = try names.map { try Data(contentsOf: reports.appendingPathComponent($0)) }
        #expect(contents.allSatisfy { !$0.isEmpty })
        let summary = try String(contentsOf: stepSummary, encoding: .utf8)
        #expect(summary.hasPrefix("# earlier step\n## ❌ evals: judged"), "appended, not overwritten")
        #expect(summary.contains("| ✗ | `overall: mean >= 4.9` | candidate |"))
        let second = try KilnPipeBinary.run(arguments)
        #expect(second.status == 1)
        #expect(second.stdout.contains("judged   judge    12     12      0"), "the rerun judged nothing again")
        let again = try names.map { try Data(contentsOf: reports.appendingPathComponent($0)) }
        #expect(again == contents, "byte-identical reports from the rerun")
    }

    /// Two pipelines run from one folder keep their reports apart (beside the state, a folder per pipeline and
    /// stage), and the reports name items as the user knows them — rows without an id by file and line — with the
    /// expected answer beside the output.
    @Test func reportsGoBesideTheStateAndNameItemsAsTheUserKnowsThem() throws {
        let judge = """
              - {id: judged, type: judge, from: answers, provider: a, method: llm_as_judge, \
            thresholds: {overall: "mean >= 1"}}
            """
        let scenario = try RunScenario(rows: 3, extraStages: judge)
        defer { scenario.finish() }
        let pipeline = try String(contentsOf: scenario.directory.appendingPathComponent("p.yml"), encoding: .utf8)
        try pipeline.replacingOccurrences(of: "name: scenario", with: "name: other").write(
            to: scenario.directory.appendingPathComponent("q.yml"), atomically: true, encoding: .utf8)
        for file in ["p.yml", "q.yml"] {
            let outcome = try KilnPipeBinary.run(
                ["run", file, "--quiet"], in: scenario.directory, environment: ["FAKE_KEY": "k"])
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scenario.directory.appendingPathComponent("reports").path))
        for name in ["scenario", "other"] {
            let folder = scenario.directory.appendingPathComponent(".kiln-pipe/reports/\(name)/judged")
            let summary = try String(contentsOf: folder.appendingPathComponent("summary.md"), encoding: .utf8)
            #expect(summary.contains("\(name): judged"), "\(summary)")
            let junit = try String(contentsOf: folder.appendingPathComponent("junit.xml"), encoding: .utf8)
            for line in 1...3 { #expect(junit.contains("name=\"golden.jsonl:\(line): overall\""), "\(junit)") }
            let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("<th>expected</th>") && html.contains("<td class=\"t\">day 1</td>"))
            #expect(summary.contains("| golden.jsonl:"), "\(summary)")
        }
    }
}
