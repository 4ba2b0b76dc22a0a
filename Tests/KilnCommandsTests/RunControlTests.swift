import Foundation
import KilnBasics
import KilnFakeProvider
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Plan, status, --only, --json, Ctrl-C, and what invalidates the cache.
@Suite(.serialized) struct RunControl {
    @Test func planMakesNoCallAndShowsWhatARunWouldDo() throws {
        let scenario = try RunScenario(rows: 25, models: ["a", "b"])
        defer { scenario.finish() }
        let before = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(before.status == 0, "\(before.stderr)")
        #expect(squeezed(before.stdout).contains("answers outputs 50 0 50"), "\(before.stdout)")
        #expect(before.stdout.contains("estimated cost of the new calls: $"))
        #expect(scenario.fake.currentStatistics.requests == 0)
        #expect(
            !FileManager.default.fileExists(atPath: scenario.directory.appendingPathComponent(".kiln-pipe").path),
            "plan writes nothing")
        _ = try scenario.run()
        let after = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(squeezed(after.stdout).contains("answers outputs 50 50 0"), "\(after.stdout)")
        #expect(after.stdout.contains("estimated cost of the new calls: $0.0000"))
    }

    @Test func planCountsWhatFailedLastTimeAsCallsARerunMakes() throws {
        let scenario = try RunScenario(rows: 30, faults: [.init(kind: .badRequest, percent: 20, attempts: .max)])
        defer { scenario.finish() }
        _ = try scenario.run()
        let failed = 30 - scenario.outputLines.count
        #expect(failed > 0)
        let plan = try KilnPipeBinary.run(["plan", "p.yml", "--json"], in: scenario.directory)
        let answers = try JSONValue(parsing: plan.stdout)["stages"]?.arrayValue?.first {
            $0["id"] == .string("answers")
        }
        #expect(answers?["cached"] == .integer(30 - failed), "\(plan.stdout)")
        #expect(answers?["failed_last_run"] == .integer(failed))
        #expect(answers?["calls"]?["low"] == .integer(failed), "a rerun calls again for every failed unit")
    }

    @Test func statusShowsDoneFailedPendingAndTheLastErrors() throws {
        let scenario = try RunScenario(rows: 30, faults: [.init(kind: .badRequest, percent: 20, attempts: .max)])
        defer { scenario.finish() }
        let fresh = try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory)
        #expect(fresh.status == 0)
        #expect(squeezed(fresh.stdout).contains("answers outputs not run 0 0 ?"), "\(fresh.stdout)")
        #expect(
            !FileManager.default.fileExists(atPath: scenario.directory.appendingPathComponent(".kiln-pipe").path),
            "status writes nothing")
        _ = try scenario.run()
        let failed = 30 - scenario.outputLines.count
        let status = try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory)
        #expect(status.status == 0)
        #expect(
            squeezed(status.stdout).contains("answers outputs failed \(30 - failed) \(failed) 0"), "\(status.stdout)")
        #expect(status.stdout.contains("answers: failed: "), "\(status.stdout)")
        #expect(status.stdout.contains("HTTP 400: Invalid value for 'messages'"))
        let document = try JSONValue(
            parsing: try KilnPipeBinary.run(["status", "p.yml", "--json"], in: scenario.directory).stdout)
        let answers = document["stages"]?.arrayValue?.first { $0["id"] == .string("answers") }
        #expect(answers?["failed"] == .integer(failed) && answers?["pending"] == .integer(0))
        #expect(answers?["errors"]?.arrayValue?.first?.stringValue?.contains("HTTP 400") == true)
        // A changed stage is shown as changed, not as the current state.
        let pipeline = scenario.directory.appendingPathComponent("p.yml")
        let text = try String(contentsOf: pipeline, encoding: .utf8)
        #expect(text.contains("samples: 1}"))
        try text.replacingOccurrences(of: "samples: 1}", with: "samples: 2}").write(
            to: pipeline, atomically: true, encoding: .utf8)
        let edited = try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory)
        #expect(squeezed(edited.stdout).contains("answers outputs changed"), "\(edited.stdout)")
    }

    @Test(arguments: [
        (["--only", "answrs"], "error: --only names unknown stage 'answrs' (did you mean 'answers'?)"),
        (["--fresh-stage", "goldn"], "error: --fresh-stage names unknown stage 'goldn' (did you mean 'golden'?)"),
        (["--only", "zzz"], "error: --only names unknown stage 'zzz' (the stages are: 'golden', 'answers')"),
    ])
    func aMisspelledStageIsNamedWithTheNearestOne(arguments: [String], says: String) throws {
        let scenario = try RunScenario(rows: 3)
        defer { scenario.finish() }
        let outcome = try scenario.run(arguments)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == says, "\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.requests == 0)
    }

    /// Two models, two samples: the four answers to one input land in one part, so the test set holds no input the
    /// training set has (by default; `group_by:` changes what stays together).
    @Test func aSplitNeverPutsOneInputsAnswersInTwoParts() throws {
        let scenario = try RunScenario(
            rows: 60, models: ["a", "b"], samples: 2,
            extraStages: "  - {id: split, type: split, from: answers, preset: train_test}")
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        let text = try String(
            contentsOf: scenario.directory.appendingPathComponent(".kiln-pipe/out/scenario/split.jsonl"),
            encoding: .utf8)
        var parts: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            let item = try JSONValue(parsing: String(line))
            parts[item["input"]?.stringValue ?? "", default: []].insert(item["split"]?.stringValue ?? "")
        }
        #expect(parts.count == 60)
        #expect(parts.values.allSatisfy { $0.count == 1 }, "\(parts.filter { $0.value.count > 1 }.count) inputs leak")
        #expect(Set(parts.values.flatMap { $0 }) == ["train", "test"])
    }

    /// Offline with an empty store: the table and the text agree — the answers are not in the store, none failed,
    /// and the load stage read its rows (it is not "cached" on a first run).
    @Test func offlineCountsWhatTheStoreLacksApartFromFailures() throws {
        let scenario = try RunScenario(rows: 5)
        defer { scenario.finish() }
        let outcome = try scenario.run(["--offline"])
        #expect(outcome.status == 3)
        #expect(squeezed(outcome.stdout).contains("golden load 5 0 5 0 0"), "\(outcome.stdout)")
        #expect(squeezed(outcome.stdout).contains("answers outputs 0 0 0 0 5"), "\(outcome.stdout)")
        #expect(outcome.stderr.contains("5 items not in the checkpoint store, and --offline makes no call"))
        #expect(!outcome.stderr.contains("failed"), "\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.requests == 0)
    }

    @Test func onlyRunsTheNamedStagesAndWhatFeedsThem() throws {
        let scenario = try RunScenario(rows: 10, extraStages: "  - {id: later, type: ingest, paths: [golden.jsonl]}")
        defer { scenario.finish() }
        let all = try scenario.run()
        // golden.jsonl is no document: the ingest stage fails it (exit 3) — when it runs.
        #expect(all.status == 3)
        #expect(all.stdout.contains("golden.jsonl: unsupported file type"), "\(all.stdout)")
        let only = try scenario.run(["--only", "answers"])
        #expect(only.status == 0, "\(only.stdout)\(only.stderr)")
        #expect(scenario.outputLines.count == 10)
        #expect(!only.stdout.contains("later"))
    }

    @Test func jsonEventsAreOneJSONObjectPerLine() throws {
        let scenario = try RunScenario(rows: 5)
        defer { scenario.finish() }
        let outcome = try KilnPipeBinary.run(
            ["run", "p.yml", "--json"], in: scenario.directory, environment: ["FAKE_KEY": "k"])
        #expect(outcome.status == 0)
        let events = try outcome.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let finished = try #require(events.last)
        #expect(finished["event"] as? String == "run_finished")
        #expect(finished["failed_items"] as? Int == 0)
        #expect(
            events.contains {
                $0["event"] as? String == "stage_finished" && $0["stage"] as? String == "answers"
                    && $0["computed"] as? Int == 5
            })
        #expect(finished["exit_code"] as? Int == 0 && finished["reason"] as? String == "done")
    }

    /// A failed threshold is explained in the event stream: each threshold's outcome, where the reports are, and
    /// the exit code with its reason.
    @Test func jsonEventsExplainAThresholdFailure() throws {
        let scenario = try RunScenario(
            rows: 5,
            extraStages: """
                  - {id: judged, type: judge, from: answers, provider: a, method: llm_as_judge, \
                thresholds: {overall: "mean >= 6"}}
                """)
        defer { scenario.finish() }
        let outcome = try KilnPipeBinary.run(
            ["run", "p.yml", "--json"], in: scenario.directory, environment: ["FAKE_KEY": "k"])
        #expect(outcome.status == 1)
        let events = try outcome.stdout.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        let threshold = try #require(events.first { $0["event"] == .string("threshold") })
        #expect(threshold["passed"] == .bool(false) && threshold["score"] == .string("overall"))
        let reports = try #require(events.first { $0["event"] == .string("reports") })
        #expect(reports["stage"] == .string("judged"))
        #expect(reports["folder"]?.stringValue?.hasSuffix(".kiln-pipe/reports/scenario/judged") == true, "\(reports)")
        let finished = try #require(events.last)
        #expect(finished["event"] == .string("run_finished") && finished["exit_code"] == .integer(1))
        #expect(finished["reason"] == .string("1 threshold condition failed"), "\(finished)")
    }

    @Test func changingOneModelsParametersRecomputesOnlyThatModel() throws {
        let scenario = try RunScenario(rows: 12, models: ["a", "b"])
        defer { scenario.finish() }
        _ = try scenario.run()
        #expect(scenario.fake.currentStatistics.requests == 24)
        try scenario.editPipeline {
            $0.replacingOccurrences(
                of: "  b: {kind: openai, model: model-b,", with: "  b: {kind: openai, model: model-b, temperature: 0.9,"
            )
        }
        _ = try scenario.run()
        #expect(scenario.fake.currentStatistics.requests == 36, "only model b's 12 units were recomputed")
        try scenario.editPipeline { $0.replacingOccurrences(of: "max_concurrency: 8", with: "max_concurrency: 3") }
        _ = try scenario.run()
        #expect(
            scenario.fake.currentStatistics.requests == 36, "concurrency does not change an answer: nothing recomputed")
        try scenario.editPipeline {
            $0.replacingOccurrences(
                of: "instruction: Answer the customer.", with: "instruction: Answer the customer kindly.")
        }
        _ = try scenario.run()
        #expect(scenario.fake.currentStatistics.requests == 60, "an edited prompt recomputes every unit that uses it")
    }

    /// Ctrl-C, and SIGTERM as CI cancellations and Kubernetes send it (even to a process whose parent blocked it):
    /// in-flight calls finish and are checkpointed, the summary and partial reports are written, exit 130, and
    /// the rerun pays for nothing twice.
    @Test(arguments: [(SIGINT, "Ctrl-C"), (SIGTERM, "SIGTERM")])
    func aStopSignalFinishesInFlightCallsAndExits130ThenARerunResumes(_ signal: Int32, _ name: String) throws {
        let scenario = try RunScenario(
            rows: 400, latencyMS: 40, maxConcurrency: 4,
            extraStages: """
                  - {id: judged, type: judge, from: answers, provider: a, method: llm_as_judge, \
                thresholds: {overall: "mean >= 1"}}
                  - {id: split, type: split, from: judged}
                  - {id: finetune, type: export, from: split, out: exports/ft}
                """)
        defer { scenario.finish() }
        let process = Process()
        process.executableURL = KilnPipeBinary.url
        process.arguments = ["run", "p.yml", "--quiet"]
        process.currentDirectoryURL = scenario.directory
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "FAKE_KEY": "k"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 0.8)
        kill(process.processIdentifier, signal)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted (\(name)): no new calls"), "\(message)")
        #expect(message.contains("rerun `kiln-pipe run p.yml` to resume"))
        let paid = scenario.fake.currentStatistics.succeeded
        #expect(paid > 0 && paid < 800)
        // Nothing partial looks final: no export file under its name, and the reports say partial.
        let exports = scenario.directory.appendingPathComponent("exports/ft")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: exports.path)) ?? []).isEmpty)
        let reports = scenario.directory.appendingPathComponent(".kiln-pipe/reports/scenario/judged")
        let summary = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.hasPrefix("## ⚠️ partial: interrupted (\(name)) — scenario: judged"), "\(summary)")
        let junit = try String(contentsOf: reports.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("<failure message=\"partial: interrupted (\(name))\"/>"))
        let json = try JSONValue(
            parsing: String(contentsOf: reports.appendingPathComponent("summary.json"), encoding: .utf8))
        #expect(json["passed"] == .bool(false) && json["partial"] == .string("interrupted (\(name))"))
        let resumed = try scenario.run()
        #expect(resumed.status == 0)
        #expect(scenario.outputLines.count == 400)
        #expect(FileManager.default.fileExists(atPath: exports.appendingPathComponent("train.jsonl").path))
        let whole = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(whole.hasPrefix("## ✅ scenario: judged"), "\(whole)")
        #expect(
            scenario.fake.currentStatistics.duplicateSuccesses == 0, "calls finished before Ctrl-C were checkpointed")
    }
}

/// On a terminal, progress is one line redrawn in place (run under `script`, which provides a pseudo-terminal).
@Suite(.serialized) struct TerminalProgress {
    @Test func aTerminalGetsOneLiveLineRedrawnInPlace() throws {
        let scenario = try RunScenario(rows: 80, latencyMS: 50, maxConcurrency: 4)
        defer { scenario.finish() }
        let command = "FAKE_KEY=k \(KilnPipeBinary.url.path) run p.yml"
        let outcome = try KilnPipeBinary.run(
            ["-qec", command, "/dev/null"], in: scenario.directory, executable: URL(fileURLWithPath: "/usr/bin/script"))
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(
            outcome.stdout.contains("\r\u{1B}[K["), "the progress line is redrawn with carriage return + erase line")
        #expect(outcome.stdout.contains("answers "), "and names the stages")
    }
}

/// Text with each run of spaces made one: table columns without their padding.
func squeezed(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.split(separator: " ").joined(separator: " ")
    }.joined(separator: "\n")
}
