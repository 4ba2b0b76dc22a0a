import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner
import KilnStore

/// What `kiln-pipe view` serves: JSON read from the run history of one or more pipelines. It reads the store and the
/// live-progress files; it writes nothing.
struct ViewerAPI: Sendable {
    let pipelines: [Pipeline]
    /// `--state`, when given.
    let state: String?
    /// Stores kept open while the viewer serves (by state path): a request then costs no open. A store that did
    /// not exist when the viewer started is opened per request.
    var opened: [String: any CheckpointStore] = [:]

    /// The state paths of the pipelines shown, each once.
    var statePaths: [String] {
        var paths: [String] = []
        for pipeline in pipelines {
            let path = LoadedPipeline.statePath(for: pipeline, override: state)
            if !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    /// Runs `body` with every existing store of the pipelines open.
    func withStoresOpen<Result: Sendable>(
        _ paths: [String]? = nil, _ body: @escaping (ViewerAPI) async throws -> Result
    ) async throws -> Result {
        let paths = paths ?? statePaths
        guard let first = paths.first else { return try await body(self) }
        return try await LoadedPipeline.withExistingStore(first) { store in
            var api = self
            api.opened[first] = store
            return try await api.withStoresOpen(Array(paths.dropFirst()), body)
        }
    }

    /// A request the API cannot answer: its status and why.
    struct Failure: Error {
        var status: Int
        var message: String
    }

    func answer(path: String, query: [String: String]) async throws -> JSONValue {
        switch path {
        case "/api/runs": return try await runList()
        case "/api/run": return try await run(pipeline: pipeline(query), id: required(query, "id"))
        case "/api/item": return try await item(pipeline: pipeline(query), hash: required(query, "hash"))
        case "/api/compare":
            return try await compare(
                pipeline: pipeline(query), before: required(query, "a"), after: required(query, "b"),
                variants: query["va"].flatMap { before in query["vb"].map { (before, $0) } })
        default: throw Failure(status: 404, message: "no such API: \(path)")
        }
    }

    private func required(_ query: [String: String], _ name: String) throws -> String {
        guard let value = query[name], !value.isEmpty else {
            throw Failure(status: 400, message: "the request lacks '\(name)'")
        }
        return value
    }

    private func pipeline(_ query: [String: String]) throws -> Pipeline {
        let name = try required(query, "pipeline")
        guard let pipeline = pipelines.first(where: { $0.name == name }) else {
            throw Failure(status: 404, message: "no pipeline '\(name)' is shown here")
        }
        return pipeline
    }

    private func withStore<Result: Sendable>(
        _ pipeline: Pipeline, _ body: @escaping ((any CheckpointStore)?) async throws -> Result
    ) async throws -> Result {
        let path = LoadedPipeline.statePath(for: pipeline, override: state)
        if let store = opened[path] { return try await body(store) }
        return try await LoadedPipeline.withExistingStore(path, body)
    }

    /// Every pipeline's runs (oldest first) and its runs going on now.
    func runList() async throws -> JSONValue {
        var entries: [JSONValue] = []
        for pipeline in pipelines {
            let runs = try await withStore(pipeline) { store in
                guard let store else { return [RunRecord]() }
                return try await RunHistory.runs(of: pipeline.name, in: store)
            }
            entries.append(
                .object(
                    JSONObject([
                        ("name", .string(pipeline.name)), ("file", .string(pipeline.sourcePath)),
                        ("runs", .array(runs.map(\.json))), ("live", .array(LiveRunFile.live(for: pipeline))),
                    ])))
        }
        return .object(JSONObject([("pipelines", .array(entries))]))
    }

    private func record(
        _ id: String, of pipeline: Pipeline, in store: (any CheckpointStore)?
    ) async throws
        -> RunRecord
    {
        guard let store else { throw Failure(status: 404, message: "\(pipeline.name) has no run yet") }
        guard let run = try await RunHistory.run(id, of: pipeline.name, in: store) else {
            throw Failure(status: 404, message: "no run '\(id)' of \(pipeline.name)")
        }
        return run
    }

    /// One run: its record, and per judge stage its score types and items (`[key, group, body, scores]`).
    func run(pipeline: Pipeline, id: String) async throws -> JSONValue {
        try await withStore(pipeline) { store in
            let run = try await record(id, of: pipeline, in: store)
            let side = try await RunHistory.side(of: run, in: store!)
            let stages: [JSONValue] = side.stages.map { stage in
                .object(
                    JSONObject([
                        ("stage", .string(stage.id)),
                        ("scores", .array(stage.scoreOrder.map(JSONValue.string))),
                        (
                            "score_types",
                            .object(JSONObject(stage.scoreTypes.map { ($0.key, JSONValue.string($0.value.rawValue)) }))
                        ),
                        ("items", .array(stage.items.map(\.stored))),
                    ]))
            }
            return .object(JSONObject([("run", run.json), ("stages", .array(stages))]))
        }
    }

    /// One item's whole JSON, as its run wrote it.
    func item(pipeline: Pipeline, hash: String) async throws -> JSONValue {
        try await withStore(pipeline) { store in
            guard let store, let body = try await RunHistory.body(hash, in: store) else {
                throw Failure(status: 404, message: "no item \(hash) in the history of \(pipeline.name)")
            }
            return body
        }
    }

    /// Two runs compared, or two variants (`variants`: before, after) of the runs.
    func compare(
        pipeline: Pipeline, before: String, after: String, variants: (String, String)?
    ) async throws -> JSONValue {
        try await withStore(pipeline) { store in
            let earlier = try await RunHistory.side(of: try await record(before, of: pipeline, in: store), in: store!)
            let later = try await RunHistory.side(of: try await record(after, of: pipeline, in: store), in: store!)
            var sides = (earlier, later)
            if let (first, second) = variants {
                // One variant against another: each side keeps its variant's items, under one group.
                func only(_ side: RunSide, _ variant: String) -> RunSide {
                    var side = side
                    side.name += " · \(variant)"
                    side.stages = side.stages.map { stage in
                        var stage = stage
                        stage.items = stage.items.filter { $0.group == variant }.map { item in
                            var item = item
                            item.group = "variant"
                            return item
                        }
                        return stage
                    }
                    return side
                }
                sides = (only(earlier, first), only(later, second))
            }
            let comparison = try await RunHistory.withDetails(RunComparison(sides.0, sides.1), in: store!)
            return ComparisonReport.json(comparison, gate: nil)
        }
    }

    /// Everything the viewer shows, for `view --static`: the run list, every run, the items' bodies, and each
    /// run compared with the one before it.
    func bundle(maxBodies: Int) async throws -> JSONValue {
        let list = try await runList()
        var runs = JSONObject()
        var items = JSONObject()
        var compares = JSONObject()
        for pipeline in pipelines {
            let ids =
                (list["pipelines"]?.arrayValue ?? []).first { $0["name"]?.stringValue == pipeline.name }?["runs"]?
                .arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            var hashes: [String] = []
            var seen: Set<String> = []
            // The newest runs first: when there are more bodies than fit, theirs are kept.
            for (index, id) in ids.enumerated().reversed() {
                let detail = try await run(pipeline: pipeline, id: id)
                runs["\(pipeline.name)/\(id)"] = detail
                if index > 0 {
                    compares["\(pipeline.name)/\(ids[index - 1])/\(id)"] = try await compare(
                        pipeline: pipeline, before: ids[index - 1], after: id, variants: nil)
                }
                for stage in detail["stages"]?.arrayValue ?? [] {
                    for stored in stage["items"]?.arrayValue ?? [] {
                        guard let hash = stored.arrayValue?[2].stringValue, seen.count < maxBodies,
                            seen.insert(hash).inserted
                        else { continue }
                        hashes.append(hash)
                    }
                }
            }
            let bodies = try await withStore(pipeline) { store in
                guard let store else { return [String: JSONValue]() }
                return try await RunHistory.bodies(hashes, in: store)
            }
            for hash in hashes { items[hash] = bodies[hash] }
        }
        return .object(
            JSONObject([
                ("runs", list), ("details", .object(runs)), ("items", .object(items)), ("compares", .object(compares)),
            ]))
    }
}
