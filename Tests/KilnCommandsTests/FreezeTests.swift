import Foundation
import KilnFakeProvider
import Testing

/// freeze → cassette + lock; a rebuild elsewhere from the cassette with no key is byte-identical; verify names
/// what differs.
@Suite struct FreezeAndVerify {
    @Test func aCassetteRebuildsTheSameFilesElsewhereWithNoKey() throws {
        let scenario = try RunScenario(
            rows: 12,
            extraStages: """
                  - {id: split, type: split, from: answers, preset: train_test}
                  - {id: tuned, type: export, from: split, target: fireworks, out: exported}
                """)
        defer { scenario.finish() }
        let secret = "sk-test-DO-NOT-LEAK-4242"
        let early = try KilnPipeBinary.run(["freeze", "p.yml"], in: scenario.directory)
        #expect(early.status == 2)
        #expect(early.stderr.contains("not everything is computed yet"), "\(early.stderr)")
        #expect(try scenario.run(key: secret).status == 0)

        let frozen = try KilnPipeBinary.run(["freeze", "p.yml"], in: scenario.directory)
        #expect(frozen.status == 0, "\(frozen.stdout)\(frozen.stderr)")
        let folder = scenario.directory.appendingPathComponent("frozen/scenario")
        let lock = try Data(contentsOf: folder.appendingPathComponent("kiln-pipe.lock.json"))
        let cassette = try String(contentsOf: folder.appendingPathComponent("cassette.jsonl"), encoding: .utf8)
        #expect(cassette.split(separator: "\n").count == 12)
        #expect(!cassette.contains(secret) && !String(decoding: lock, as: UTF8.self).contains(secret))
        // A second freeze of the same store: the same bytes.
        #expect(try KilnPipeBinary.run(["freeze", "p.yml"], in: scenario.directory).status == 0)
        #expect(try Data(contentsOf: folder.appendingPathComponent("kiln-pipe.lock.json")) == lock)
        let files =
            try #require(try JSONSerialization.jsonObject(with: lock) as? [String: Any])["files"] as? [[String: Any]]
        #expect(files?.compactMap { $0["path"] as? String }.contains("exported/train.jsonl") == true)

        // Another machine: the pipeline, its input and the frozen folder; no store, no outputs, no key.
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiln-rebuild-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        for name in ["p.yml", "golden.jsonl", "frozen"] {
            try FileManager.default.copyItem(
                at: scenario.directory.appendingPathComponent(name), to: elsewhere.appendingPathComponent(name))
        }
        let rebuilt = try KilnPipeBinary.run(
            ["run", "p.yml", "--cassette", "frozen/scenario/cassette.jsonl", "--offline", "--quiet"], in: elsewhere)
        #expect(rebuilt.status == 0, "\(rebuilt.stdout)\(rebuilt.stderr)")
        let verified = try KilnPipeBinary.run(["verify", "p.yml"], in: elsewhere)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("all 8 files match"), "\(verified.stdout)")
        #expect(scenario.fake.currentStatistics.requests == 12, "the rebuild made no call")
        #expect(try KilnPipeBinary.run(["freeze", "p.yml"], in: elsewhere).status == 0)
        #expect(try Data(contentsOf: elsewhere.appendingPathComponent("frozen/scenario/kiln-pipe.lock.json")) == lock)

        // A changed output is named.
        let answers = elsewhere.appendingPathComponent(".kiln-pipe/out/scenario/answers.jsonl")
        try (try String(contentsOf: answers, encoding: .utf8) + "\n").write(
            to: answers, atomically: true, encoding: .utf8)
        let tampered = try KilnPipeBinary.run(["verify", "p.yml"], in: elsewhere)
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("DIFFERS  .kiln-pipe/out/scenario/answers.jsonl"), "\(tampered.stdout)")
    }
}

/// `make demo` replays the committed quickstart cassette: the rebuild must match the committed lock.
@Suite struct CommittedCassette {
    @Test func theQuickstartCassetteRebuildsItsLockedFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("datasets"), withIntermediateDirectories: true)
        let repository = KilnPipeBinary.repositoryRoot
        try FileManager.default.copyItem(
            at: repository.appendingPathComponent("pipelines/quickstart.yml"),
            to: root.appendingPathComponent("pipelines/quickstart.yml"))
        try FileManager.default.copyItem(
            at: repository.appendingPathComponent("datasets/quickstart"),
            to: root.appendingPathComponent("datasets/quickstart"))
        let replay = try KilnPipeBinary.run(
            [
                "run", "pipelines/quickstart.yml", "--cassette", "datasets/quickstart/cassette.jsonl", "--offline",
                "--quiet",
            ], in: root)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        let verified = try KilnPipeBinary.run(
            ["verify", "pipelines/quickstart.yml", "--dir", "datasets/quickstart"], in: root)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("all 17 files match"), "\(verified.stdout)")
    }
}
