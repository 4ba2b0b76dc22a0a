import Foundation
import KilnFakeProvider
import KilnTesting
import Testing

/// Sharded runs on a shared PostgreSQL store (a real server on loopback, started by the test): four shards run at
/// once, each on its share of the items, then one `--after-shards` run writes the split and the exports. The
/// result is byte for byte the single-process run's, and no request is made twice.
@Suite(.serialized) struct ShardedRuns {
    static let pipeline = """
        version: 1
        name: scenario
        providers:
          a: {kind: openai, model: m, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: 4}
        task:
          instruction: Answer the question.
          output_schema: {type: object, properties: {answer: {type: string}}, required: [answer]}
        stages:
          - {id: golden, type: load, path: golden.jsonl}
          - {id: answers, type: outputs, from: golden, models: [a], samples: 2}
          - {id: judged, type: judge, from: answers, provider: a, method: llm_as_judge, thresholds: {overall: \
          "mean >= 1"}}
          - {id: split, type: split, from: judged, preset: train_test, seed: s1}
          - {id: together, type: export, from: split, target: together, out: exports/together}
        """

    static func scenario() throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline)
        let rows = (0..<60).map { #"{"input": "Question \#($0): where is my order?"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        return scenario
    }

    /// What a run leaves that a user reads: each stage's items and the export files. Items carry the latency each
    /// call took, which no two live runs share: it is set to 0 here, everything else must match byte for byte.
    static func results(of scenario: RunScenario, out: String = ".kiln-pipe/out/scenario") throws -> [String: String] {
        var files: [String: String] = [:]
        for name in ["golden", "answers", "judged", "split"] {
            files[name] = try String(
                contentsOf: scenario.directory.appendingPathComponent("\(out)/\(name).jsonl"), encoding: .utf8
            )
            .replacing(#/"latency_ms":\d+/#, with: #""latency_ms":0"#)
        }
        for part in ["train", "test"] {
            files[part] = try String(
                contentsOf: scenario.directory.appendingPathComponent("exports/together/\(part).jsonl"), encoding: .utf8
            )
        }
        return files
    }

    @Test func fourShardsOnPostgresProduceExactlyTheSingleProcessResult() throws {
        let server = try PostgresServer.shared.get()

        let single = try Self.scenario()
        defer { single.finish() }
        let alone = try single.run()
        #expect(alone.status == 0, "\(alone.stdout)\(alone.stderr)")
        let expected = try Self.results(of: single)
        let singleRequests = single.fake.currentStatistics.requests

        let sharded = try Self.scenario()
        defer { sharded.finish() }
        let url = try server.createDatabase()
        // Four processes at once, as four machines would run them (each writes its own output folder).
        let shards = try (0..<4).map { index in
            try KilnPipeBinary.start(
                ["run", "p.yml", "--quiet", "--shard", "\(index)/4", "--state", url, "--out", "shard\(index)"],
                in: sharded.directory, environment: ["FAKE_KEY": "secret-test-key"])
        }
        for process in shards { process.waitUntilExit() }
        #expect(shards.map(\.terminationStatus) == [0, 0, 0, 0])
        let shares = (0..<4).map { index in
            ((try? String(
                contentsOf: sharded.directory.appendingPathComponent("shard\(index)/golden.jsonl"), encoding: .utf8))
                ?? "")
                .split(separator: "\n").count
        }
        #expect(shares.reduce(0, +) == 60, "every row in exactly one shard: \(shares)")
        #expect(shares.allSatisfy { $0 > 0 }, "\(shares)")
        #expect(
            !FileManager.default.fileExists(atPath: sharded.directory.appendingPathComponent("exports").path),
            "a shard leaves split and export to --after-shards")

        let after = try sharded.run(["--after-shards", "--state", url])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        let union = try Self.results(of: sharded)
        for (name, text) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(union[name] == text, "\(name): the union of the shards is the single-process run, byte for byte")
        }
        let statistics = sharded.fake.currentStatistics
        #expect(statistics.requests == singleRequests, "each request once across the shards, none by --after-shards")
        #expect(statistics.duplicateSuccesses == 0)

        // `status` reads the shared store; a rerun of a shard makes no call.
        let status = try KilnPipeBinary.run(["status", "p.yml", "--state", url], in: sharded.directory)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("state: postgres://kiln@127.0.0.1"), "\(status.stdout)")
        #expect(status.stdout.contains("shards: last run as 4 shards; 4 of 4 finished"), "\(status.stdout)")
        let again = try sharded.run(["--shard", "2/4", "--state", url, "--out", "shard2"])
        #expect(again.status == 0)
        #expect(sharded.fake.currentStatistics.requests == singleRequests)
    }

    @Test func afterShardsNamesWhatNoShardDid() throws {
        let server = try PostgresServer.shared.get()
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        let url = try server.createDatabase()
        #expect(try scenario.run(["--shard", "0/2", "--state", url, "--out", "shard0"]).status == 0)
        let early = try scenario.run(["--after-shards", "--state", url])
        #expect(
            early.status == 2, "a missing shard stops --after-shards before it writes: \(early.stdout)\(early.stderr)")
        #expect(
            early.stderr.contains("a shard has not finished: shard 1/2 has not finished stage 'golden'"),
            "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scenario.directory.appendingPathComponent("exports").path))
        let status = try KilnPipeBinary.run(["status", "p.yml", "--state", url], in: scenario.directory)
        #expect(status.stdout.contains("shards: last run as 2 shards; 1 of 2 finished"), "\(status.stdout)")
        #expect(status.stdout.contains("shard 1/2 has not finished stage 'golden'"))
        #expect(try scenario.run(["--shard", "1/2", "--state", url, "--out", "shard1"]).status == 0)
        #expect(try scenario.run(["--after-shards", "--state", url]).status == 0)
        #expect(
            FileManager.default.fileExists(
                atPath: scenario.directory.appendingPathComponent("exports/together/train.jsonl").path))
    }

    /// An agent's search index is built by an index stage, which waits for every shard: a shard whose index is
    /// missing stops before any call, naming the command that builds it once; then every shard searches it.
    @Test func aShardSearchingAnIndexNotBuiltYetStopsBeforeAnyCall() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-shard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try KilnPipeBinary.run(["init", "docs", "--dir", folder.path]).status == 0)
        let early = try KilnPipeBinary.run(["run", "docs.yml", "--shard", "0/2"], in: folder)
        #expect(early.status == 2)
        #expect(
            early.stderr.contains(
                "stage 'answers' searches index 'idx', which shard 0/2 does not build and which has not been built"),
            "\(early.stderr)")
        #expect(early.stderr.contains("kiln-pipe run docs.yml --only idx"))
        #expect(!early.stdout.contains("questions"), "stopped before any stage ran: \(early.stdout)")
        #expect(try KilnPipeBinary.run(["run", "docs.yml", "--only", "idx"], in: folder).status == 0)
        for shard in ["0/2", "1/2"] {
            let run = try KilnPipeBinary.run(["run", "docs.yml", "--shard", shard], in: folder)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        }
        let after = try KilnPipeBinary.run(["run", "docs.yml", "--after-shards"], in: folder)
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }

    @Test func aStoreThatGoesAwayStopsTheRunBeforeMoreIsPaidFor() throws {
        let server = try PostgresServer()  // its own: this test stops it
        defer { server.stop() }
        let scenario = try RunScenario(pipeline: Self.pipeline, latencyMS: 100)
        defer { scenario.finish() }
        let rows = (0..<60).map { #"{"input": "Question \#($0)"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        let url = try server.createDatabase() + "&connect_timeout=1"
        let process = Process()
        process.executableURL = KilnPipeBinary.url
        process.arguments = ["run", "p.yml", "--quiet", "--state", url]
        process.currentDirectoryURL = scenario.directory
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "FAKE_KEY": "secret-test-key"]
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let before = scenario.fake.currentStatistics.requests
        server.stop()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(message)")
        // Whichever store operation meets the gone database first (a checkpoint, or the next window's lookup) says so.
        #expect(message.contains("PostgreSQL store postgres://kiln@127.0.0.1"), "\(message)")
        let after = scenario.fake.currentStatistics.requests
        #expect(
            before > 0 && after < 240, "stopped early: \(before) requests before the store went away, \(after) in all")
    }

    /// Flags that cannot work, and what the error must say.
    static let badFlags: [(arguments: [String], says: String)] = [
        (["--shard", "4/4"], "the index must be from 0 to 3"),
        (["--shard", "two"], "is not INDEX/COUNT"),
        (["--shard", "0/2", "--after-shards"], "different runs"),
        (
            ["--state", "postgres://kiln:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"],
            "cannot reach the PostgreSQL store"
        ),
    ]

    @Test(arguments: badFlags)
    func badShardFlagsAreClearErrors(arguments: [String], says: String) throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        let outcome = try scenario.run(arguments)
        #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.contains(says), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("hunter2"))
        #expect(scenario.fake.currentStatistics.requests == 0)
    }
}
