import Foundation
import KilnFakeProvider
import Testing

/// One error path: whatever goes wrong that is not a failed threshold ends with exit 2 and one readable line
/// naming the place — never exit 1 (which CI reads as "the eval failed") and never Foundation's error dump.
@Suite(.serialized) struct ErrorPath {
    /// A place nothing can be written below, even as root: a folder path under a regular file.
    static func blocked(in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("not-a-folder")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        return file.path + "/below"
    }

    static let judged = """
          - {id: judged, type: judge, from: answers, provider: a, method: llm_as_judge, thresholds: {overall: \
          "mean >= 1"}}
        """

    /// Each unwritable place of `run` and `status`, with the words its message must carry.
    static let unwritablePlaces: [(flag: String, command: String, expected: String)] = [
        ("--out", "run", "cannot create the output folder"),
        ("--report-dir", "run", "cannot create the report folder"),
        ("--state", "run", "cannot open the checkpoint store"),
        ("--state", "status", "cannot open the checkpoint store"),
    ]

    @Test(arguments: unwritablePlaces.indices)
    func anUnwritablePlaceIsExitTwoWithOneLineAndNoCall(case index: Int) throws {
        let (flag, command, expected) = Self.unwritablePlaces[index]
        let scenario = try RunScenario(rows: 5, extraStages: Self.judged)
        defer { scenario.finish() }
        let place = try Self.blocked(in: scenario.directory) + (flag == "--state" ? "/state.sqlite" : "")
        let outcome = try KilnPipeBinary.run(
            [command, "p.yml", flag, place] + (command == "run" ? ["--quiet"] : []), in: scenario.directory,
            environment: ["FAKE_KEY": "secret-test-key"])
        #expect(outcome.status == 2, "\(command) \(flag): \(outcome.stdout)\(outcome.stderr)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("error: \(expected)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(place), "names the place: \(outcome.stderr)")
        #expect(outcome.stderr.contains("Not a directory"), "says why: \(outcome.stderr)")
        #expect(outcome.stderr.contains(flag), "says which flag moves it: \(outcome.stderr)")
        #expect(!outcome.stderr.contains("Error Domain"), "\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.requests == 0, "nothing was paid for")
    }

    @Test func anUnwritableExportOutIsExitTwoWithOneLine() throws {
        let root = try KilnSplitExporting.projectWithSplit()
        defer { try? FileManager.default.removeItem(at: root) }
        let place = try Self.blocked(in: root)
        let outcome = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Nov split",
                "--part", "train", "--out", place + "/train.jsonl",
            ], in: root)
        #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.hasPrefix("error: cannot create the export folder \(place)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("Not a directory") && outcome.stderr.contains("--out"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("Error Domain"), "\(outcome.stderr)")
    }

    @Test func aThresholdFailureStaysExitOneAndAFolderInTheWayOfAReportIsTwo() throws {
        let scenario = try RunScenario(
            rows: 5, extraStages: Self.judged.replacingOccurrences(of: ">= 1", with: ">= 99"))
        defer { scenario.finish() }
        let failing = try scenario.run()
        #expect(failing.status == 1, "a failed threshold is 1: \(failing.stdout)\(failing.stderr)")
        // A folder where summary.md must go: the reports cannot be written after the run; 2, and the rerun that
        // writes them makes no call.
        try FileManager.default.createDirectory(
            at: scenario.directory.appendingPathComponent("r/summary.md"), withIntermediateDirectories: true)
        let requests = scenario.fake.currentStatistics.requests
        let blocked = try scenario.run(["--report-dir", "r"])
        #expect(blocked.status == 2, "\(blocked.stdout)\(blocked.stderr)")
        #expect(blocked.stderr.contains("error: cannot write the eval reports to r"), "\(blocked.stderr)")
        #expect(!blocked.stderr.contains("Error Domain"), "\(blocked.stderr)")
        try FileManager.default.removeItem(at: scenario.directory.appendingPathComponent("r/summary.md"))
        let rerun = try scenario.run(["--report-dir", "r"])
        #expect(rerun.status == 1)
        #expect(scenario.fake.currentStatistics.requests == requests, "the results were kept: no call")
        #expect(FileManager.default.fileExists(atPath: scenario.directory.appendingPathComponent("r/summary.md").path))
    }

    /// docs/scale-out.md: four shards started on one machine with `&` … `wait`, sharing the default SQLite store
    /// and the default output folder.
    @Test func fourShardsOnOneMachineShareTheDefaultsWithoutColliding() throws {
        let scenario = try ShardedRuns.scenario()
        defer { scenario.finish() }
        let shards = try (0..<4).map { index in
            try KilnPipeBinary.start(
                ["run", "p.yml", "--quiet", "--shard", "\(index)/4"], in: scenario.directory,
                environment: ["FAKE_KEY": "secret-test-key"])
        }
        for process in shards { process.waitUntilExit() }
        #expect(shards.map(\.terminationStatus) == [0, 0, 0, 0])
        let out = scenario.directory.appendingPathComponent(".kiln-pipe/out/scenario")
        let shares = (0..<4).map { index in
            ((try? String(contentsOf: out.appendingPathComponent("shard-\(index)-of-4/golden.jsonl"), encoding: .utf8))
                ?? "").split(separator: "\n").count
        }
        #expect(shares.reduce(0, +) == 60, "every row in exactly one shard's folder: \(shares)")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.contains(".partial") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let after = try scenario.run(["--after-shards"])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        #expect(scenario.items(of: "judged").count == 120)
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 0)
    }

    /// Nothing listens at a provider's base_url: the run stops within seconds (not after every item's retries),
    /// naming the provider, its URL and where the pipeline declares it; exit 2.
    @Test func anUnreachableProviderStopsTheRunAtOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-down-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let rows = (0..<40).map { #"{"question": "q\#($0)"}"# }.joined(separator: "\n")
        try rows.write(to: directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        try """
        version: 1
        name: down
        providers:
          gone: {kind: openai, model: m, base_url: "http://127.0.0.1:1/v1", api_key_env: FAKE_KEY, max_retries: 5}
        task:
          instruction: Answer.
        stages:
          - {id: golden, type: load, path: golden.jsonl, fields: {input: question}}
          - {id: answers, type: outputs, from: golden, models: [gone]}
        """.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let started = Date()
        let outcome = try KilnPipeBinary.run(
            ["run", "p.yml", "--quiet"], in: directory, environment: ["FAKE_KEY": "k"])
        #expect(Date().timeIntervalSince(started) < 5, "stops within seconds")
        #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
        let text = outcome.stdout + outcome.stderr
        #expect(text.contains("provider 'gone' cannot be reached at http://127.0.0.1:1/v1 (p.yml line 4)"), "\(text)")
    }
}
