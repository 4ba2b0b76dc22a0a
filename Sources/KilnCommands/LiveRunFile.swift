import Foundation
import KilnBasics
import KilnModel
import KilnStages

/// While a run goes, `.kiln-pipe/live/<pipeline>-<pid>.json` beside the pipeline says how far each stage is
/// (rewritten atomically once a second), for `kiln-pipe view`'s live progress; removed when
/// the run ends. A file whose process is gone or that was not rewritten for a minute is not shown as live.
enum LiveRunFile {
    static func folder(for pipeline: Pipeline) -> URL {
        LoadedPipeline.directory(of: pipeline).appendingPathComponent(".kiln-pipe/live")
    }

    /// Runs `body` while keeping the live file of this process up to date.
    static func whileRunning<Result: Sendable>(
        _ progress: RunProgress, pipeline: Pipeline, startedAt: Date,
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let file = folder(for: pipeline).appendingPathComponent(
            "\(pipeline.name)-\(ProcessInfo.processInfo.processIdentifier).json")
        @Sendable func write() async {
            let document = Self.document(
                pipeline: pipeline.name, startedAt: startedAt, stages: await progress.snapshot,
                totals: await progress.totals)
            // Progress is a courtesy: a folder that cannot be written never stops the run.
            try? FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? Data(document.serialized().utf8).write(to: file, options: .atomic)
        }
        // There before the first call goes out, then rewritten each second.
        await write()
        defer { try? FileManager.default.removeItem(at: file) }
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { return nil }
                    await write()
                }
                return nil
            }
            let result = try await body()
            group.cancelAll()
            return result
        }
    }

    static func document(
        pipeline: String, startedAt: Date, stages: [StageReport], totals: [String: Int]
    ) -> JSONValue {
        .object(
            JSONObject([
                ("pipeline", .string(pipeline)), ("pid", .integer(Int(ProcessInfo.processInfo.processIdentifier))),
                ("started_at", .double(startedAt.timeIntervalSince1970)),
                ("updated_at", .double(Date().timeIntervalSince1970)),
                (
                    "stages",
                    .array(
                        stages.map { stage in
                            .object(
                                JSONObject([
                                    ("id", .string(stage.id)), ("type", .string(stage.type.rawValue)),
                                    ("items", .integer(stage.items)), ("cached", .integer(stage.cached)),
                                    ("computed", .integer(stage.computed)), ("failed", .integer(stage.failed)),
                                    ("total", totals[stage.id].map(JSONValue.integer) ?? .null),
                                    ("cost_usd", .double(stage.usage.costUSD)),
                                ]))
                        })
                ),
            ]))
    }

    /// The runs of `pipeline` going on now.
    static func live(for pipeline: Pipeline) -> [JSONValue] {
        let folder = folder(for: pipeline)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("\(pipeline.name)-") && $0.hasSuffix(".json") }.sorted().compactMap {
            name in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                let document = try? JSONValue(parsing: String(decoding: data, as: UTF8.self)),
                let pid = document["pid"]?.numberValue, kill(pid_t(pid), 0) == 0,
                Date().timeIntervalSince1970 - (document["updated_at"]?.numberValue ?? 0) < 60
            else { return nil }
            return document
        }
    }
}
