import Foundation
package import KilnBasics
package import KilnModel
import KilnStages
import KilnStore
import Synchronization

/// `freeze`: replays a finished pipeline from the checkpoint store (no call), rewriting its outputs, and writes
/// the lock (pipeline hash, per-stage unit hashes, models and parameters, counts, sha256 of every output file)
/// and the cassette (every record the outputs came from). Two freezes of the same store give the same bytes.
package struct Freezer: Sendable {
    package let pipeline: Pipeline
    package let statePath: String
    package let outputDirectory: String
    package let lockPath: String
    package let cassettePath: String

    package init(pipeline: Pipeline, statePath: String, outputDirectory: String, lockPath: String, cassettePath: String)
    {
        self.pipeline = pipeline
        self.statePath = statePath
        self.outputDirectory = outputDirectory
        self.lockPath = lockPath
        self.cassettePath = cassettePath
    }

    /// What a freeze wrote.
    package struct Result: Sendable {
        package var lock: JSONValue
        package var records: Int
        package var files: Int
    }

    package var baseDirectory: String { URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path }

    package func freeze() async throws -> Result {
        let options = RunOptions(
            statePath: statePath, outputDirectory: outputDirectory, environment: [:], offline: true)
        let recorder = SharedRecorder()
        let engine = RunEngine(pipeline: pipeline, options: options) { base in
            let recording = RecordingCheckpointStore(base)
            recorder.set(recording)
            return recording
        }
        let report = try await engine.run(progress: RunProgress(stages: []))
        let pending = report.stages.filter { $0.pending > 0 }
        guard pending.isEmpty else {
            throw ActionableError(
                "not everything is computed yet: "
                    + "\(pending.map { "\($0.id) has \($0.pending) pending" }.joined(separator: ", "))",
                hint: "run the pipeline to completion first (`kiln-pipe run \(pipeline.sourcePath)`), then freeze")
        }
        guard let recording = recorder.get() else { throw ActionableError("the run opened no checkpoint store") }
        // Export bookkeeping (which file kiln-pipe wrote) is local to this machine: not part of the cassette.
        let records = try await recording.servedRecords().filter { !$0.stage.hasPrefix("_") }
        try Cassette.write(records, stageOrder: pipeline.stages.map(\.id), to: cassettePath)
        var stages: [JSONValue] = []
        var files: [JSONValue] = []
        for stageReport in report.stages {
            guard let stage = pipeline.stage(withID: stageReport.id) else { continue }
            let keys = records.filter { $0.stage == stage.id }.map(\.key).sorted()
            var entry = JSONObject()
            entry["id"] = .string(stage.id)
            entry["type"] = .string(stage.type.rawValue)
            // The stage's settings as loaded (variables resolved, `location` left out: moving a line is no change).
            entry["config_sha256"] = .string(SHA256.hex(CanonicalDescription.of((stage.from, stage.settings))))
            entry["units_sha256"] = .string(SHA256.hex(keys.joined(separator: "\n")))
            entry["units"] = .integer(keys.count)
            entry["items"] = .integer(stageReport.items)
            entry["failed"] = .integer(stageReport.failed)
            entry["models"] = .array(
                stage.settings.providerNames.sorted().map { Self.model(pipeline.provider(named: $0), name: $0) })
            stages.append(.object(entry))
            for path in [stageReport.outputFile].compactMap({ $0 }) + stageReport.files {
                files.append(try Self.fileEntry(path, base: baseDirectory))
            }
        }
        var lock = JSONObject()
        lock["lock_version"] = .integer(1)
        lock["pipeline"] = .object(
            JSONObject([
                ("name", .string(pipeline.name)),
                ("path", .string(RelativePath.of(pipeline.sourcePath, from: baseDirectory))),
                ("sha256", .string(SHA256.hex(ofFileAt: pipeline.sourcePath) ?? "")),
            ]))
        lock["stages"] = .array(stages)
        lock["files"] = .array(files)
        lock["cassette"] = try Self.fileEntry(cassettePath, base: baseDirectory)
        let value = JSONValue.object(lock)
        try Folder.create(URL(fileURLWithPath: lockPath).deletingLastPathComponent().path)
        try (value.serialized(sortedKeys: true) + "\n").write(toFile: lockPath, atomically: true, encoding: .utf8)
        return Result(lock: value, records: records.count, files: files.count)
    }

    /// The parts of a provider that change answers (never its key, limits or concurrency).
    static func model(_ provider: ProviderConfig?, name: String) -> JSONValue {
        var model = ModelFingerprint.json(provider).objectValue ?? JSONObject()
        model["provider"] = .string(name)
        // The in-process fake listens on a random port: its address is not part of what it answers.
        if provider?.kind == .fake { model["endpoint"] = .string("in-process") }
        return .object(model)
    }

    static func fileEntry(_ path: String, base: String) throws -> JSONValue {
        guard let digest = SHA256.hex(ofFileAt: path) else { throw ActionableError("cannot read \(path) to hash it") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        return .object(
            JSONObject([
                ("path", .string(RelativePath.of(path, from: base))), ("sha256", .string(digest)),
                ("bytes", .integer(size)),
            ]))
    }
}

/// Hands the recording store out of the engine's store factory.
private final class SharedRecorder: Sendable {
    private let store = Mutex<RecordingCheckpointStore?>(nil)

    func set(_ store: RecordingCheckpointStore) { self.store.withLock { $0 = store } }
    func get() -> RecordingCheckpointStore? { store.withLock { $0 } }
}

/// `verify`: each file a lock lists, hashed again and compared.
package enum LockVerifier {
    package enum Check: Sendable, Equatable {
        case same(String)
        case differs(String, expected: String, actual: String)
        case missing(String)
    }

    package static func verify(lockPath: String, baseDirectory: String) throws -> [Check] {
        guard let data = FileManager.default.contents(atPath: lockPath),
            let lock = try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
        else {
            throw ActionableError("cannot read the lock \(lockPath)", hint: "write one with `kiln-pipe freeze`")
        }
        let entries =
            [lock["pipeline"]].compactMap { $0 } + (lock["files"]?.arrayValue ?? [])
            + [lock["cassette"]].compactMap { $0 }
        return entries.compactMap { entry -> Check? in
            guard let path = entry["path"]?.stringValue, let expected = entry["sha256"]?.stringValue else { return nil }
            let absolute = path.hasPrefix("/") ? path : baseDirectory + "/" + path
            guard let actual = SHA256.hex(ofFileAt: absolute) else { return .missing(path) }
            return actual == expected ? .same(path) : .differs(path, expected: expected, actual: actual)
        }
    }
}
