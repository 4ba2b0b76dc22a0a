import Foundation
import KilnBasics
package import KilnModel
import KilnProviders
import KilnStore

/// `topics`: a topic tree grown node by node, `breadth` children per node down to `depth`; each node's
/// expansion is one checkpointed unit, expanded concurrently with its siblings. Seed topics are kept as the
/// root's first children and never generated again.
package struct TopicsStage: Sendable {
    package let settings: TopicsSettings
    let services: StageServices
    let fingerprint: String

    package init(settings: TopicsSettings, services: StageServices) {
        self.settings = settings
        self.services = services
        fingerprint = services.fingerprint(
            type: .topics, promptVersion: GenerationPrompts.topicsVersion,
            extra: [("guidance", settings.guidance.map(JSONValue.string) ?? .null)])
    }

    private var task: TaskDefinition { services.task }
    private var stageID: String { services.stageID }

    var root: String { settings.root ?? task.instruction }

    /// A node of the tree: its path below the root and its position (for emitting in tree order).
    package struct Node: Sendable {
        package var path: [String]
        package var position: [Int]

        package init(path: [String], position: [Int]) {
            self.path = path
            self.position = position
        }
    }

    /// The outcome of growing the tree: its nodes, and its expansions counted as a stage counts its units.
    struct Growth {
        var nodes: [Node] = []
        var tally: StageReport
        var stop: RunStop?
    }

    /// Grows the whole tree with at most `concurrency` expansions at once, counting them on top of `report`.
    func grow(concurrency: Int, counting report: StageReport, shouldStop: @Sendable () -> Bool) async -> Growth {
        var growth = Growth(tally: report)
        var pending = [Node(path: [], position: [])]
        await withTaskGroup(of: (Node, UnitResult).self) { group in
            var running = 0
            while true {
                while running < max(1, concurrency), let node = pending.popLast(), growth.stop == nil, !shouldStop() {
                    running += 1
                    group.addTask { (node, await expand(node)) }
                }
                guard running > 0, let (parent, result) = await group.next() else { break }
                running -= 1
                if case .stopped(let reason) = result { growth.stop = growth.stop ?? reason }
                for (index, child) in growth.tally.count(result).enumerated() {
                    let name = child.fields["topic"]?.stringValue ?? ""
                    let node = Node(path: parent.path + [name], position: parent.position + [index])
                    growth.nodes.append(node)
                    if node.path.count < settings.depth { pending.append(node) }
                }
            }
        }
        growth.nodes.sort { $0.position.lexicographicallyPrecedes($1.position) }
        return growth
    }

    /// The items the tree yields: its leaves, or every node below the root with `emit: all`.
    func items(of growth: Growth) -> [PipelineItem] {
        growth.nodes.filter { settings.emit == .all || $0.path.count == settings.depth }.map { node in
            var fields = JSONObject()
            fields["root"] = .string(root)
            fields["topic_path"] = .array(node.path.map(JSONValue.string))
            fields["provenance"] = .object(
                JSONObject([
                    ("stage", .string(stageID)), ("provider", .string(settings.provider)),
                    ("model", .string(services.provider?.model ?? "")),
                    ("prompt_version", .string(GenerationPrompts.topicsVersion)),
                ]))
            return PipelineItem(
                id: String(SHA256.hex(([root] + node.path).joined(separator: "\u{1F}")).prefix(16)), fields: fields)
        }
    }

    /// What expanding the node at `path` would cost (offline: estimated; with a provider: measured); nil when it
    /// needs no call.
    func estimateExpansion(path: [String]) async -> CallEstimate? {
        CallEstimate(await expand(Node(path: path, position: [])))
    }

    package func key(for node: Node, existing: [String], count: Int) -> String {
        CheckpointKey.make(
            JSONObject([
                ("stage", .string(fingerprint)), ("root", .string(root)),
                ("path", .array(node.path.map(JSONValue.string))),
                ("existing", .array(existing.map(JSONValue.string))), ("count", .integer(count)),
            ]))
    }

    /// A node's children: the seeds (root only) plus generated subtopics, as items carrying `topic`.
    private func expand(_ node: Node) async -> UnitResult {
        let existing = node.path.isEmpty ? settings.seedTopics : []
        let count = max(0, settings.breadth - existing.count)
        func children(_ generated: [String]) -> [PipelineItem] {
            (existing + generated).map { PipelineItem(id: $0, fields: JSONObject([("topic", .string($0))])) }
        }
        guard count > 0 else { return .done(children([]), cached: true, usage: Usage(), requests: 0) }
        let key = key(for: node, existing: existing, count: count)
        let record = services.mode.useCache ? (try? await services.store.records(forKeys: [key]))?[key] : nil
        if let record, record.status == .done, let generated = record.item?.arrayValue?.compactMap(\.stringValue) {
            return .done(children(generated), cached: true, usage: record.usage, requests: 0)
        }
        let place = ([root] + node.path).joined(separator: " > ")
        let request = ChatRequest(
            messages: [
                .system(GenerationPrompts.topicsSystem),
                .user(
                    GenerationPrompts.topicsUser(
                        task: task, path: [root] + node.path, count: count, existing: existing,
                        guidance: settings.guidance)),
            ],
            structured: StructuredOutputSpec(name: "subtopics", schema: GenerationPrompts.topicsSchema(count: count)))
        if services.mode.offline {
            return services.offlineResult(record: record, requests: [request], place: "\(place): ")
        }
        guard let executor = services.executor, let entry = services.pool?[settings.provider] else {
            return .failed("provider '\(settings.provider)' is not available", usage: Usage(), requests: 0)
        }
        do {
            switch try await executor.execute(
                request, on: entry, fresh: !services.mode.useCache,
                validate: { Self.subtopics(in: $0.choices[0].text, count: count, existing: existing) })
            {
            case .succeeded(let generated, _, let call, let attempts, let usage, let latency):
                let record = CheckpointRecord(
                    key: key, stage: stageID, status: .done, item: .array(generated.map(JSONValue.string)),
                    usage: usage,
                    latencyMS: latency, attempts: attempts, calls: [call])
                do {
                    try await services.store.write([record])
                } catch {
                    return .failed("could not checkpoint the result: \(error)", usage: usage, requests: attempts)
                }
                return .done(children(generated), cached: false, usage: usage, requests: attempts)
            case .failed(let reason, let attempts, let usage):
                try? await services.store.write([
                    CheckpointRecord(
                        key: key, stage: stageID, status: .failed, error: reason, usage: usage, attempts: attempts)
                ])
                return .failed("\(place): \(reason)", usage: usage, requests: attempts)
            }
        } catch {
            return .stopped(error)
        }
    }

    /// Up to `count` distinct, non-empty subtopics that repeat none of the existing ones (compared case- and
    /// space-insensitively); extra ones are ignored. Fewer than asked are kept, as Kiln keeps what the model
    /// returns (small models repeat themselves, and regenerating at a low temperature rarely helps); an answer
    /// with no new subtopic at all is invalid and regenerated.
    static func subtopics(in text: String, count: Int, existing: [String]) -> Result<[String], ValidationFailure> {
        guard let list = AnswerValidation.extractJSON(from: text)?["subtopics"]?.arrayValue else {
            return .failure(ValidationFailure("no subtopics list in the answer"))
        }
        var seen = Set(existing.map(QualityFilter.normalized))
        var kept: [String] = []
        var repeats: [String] = []
        for entry in list {
            guard let topic = entry.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !topic.isEmpty else {
                continue
            }
            if seen.insert(QualityFilter.normalized(topic)).inserted {
                kept.append(topic)
            } else {
                repeats.append(topic)
            }
            if kept.count == count { return .success(kept) }
        }
        guard kept.isEmpty else { return .success(kept) }
        let detail = repeats.isEmpty ? "" : " (repeated: \(repeats.prefix(3).joined(separator: ", ")))"
        return .failure(ValidationFailure("no new subtopic in the answer\(detail)"))
    }
}

extension TopicsStage: Stage {
    /// Grows the tree, then emits its items (a shard keeps its share; a shard never grows the tree itself).
    package func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        let growth = await grow(
            concurrency: run.shared.pool[settings.provider]?.unitConcurrency ?? 1, counting: report,
            shouldStop: run.shouldStop)
        report = growth.tally
        if growth.stop != nil { run.shared.stop.set() }
        let shard = run.options.shard
        if let shard, growth.tally.pending > 0 {
            throw RunSetupError(
                "shard \(shard): the topic tree of stage '\(run.id)' is not complete in the store",
                hint: "grow it once before the shards: kiln-pipe run \(run.pipeline.sourcePath) --only \(run.id) "
                    + "--state <the shared store>")
        }
        for item in items(of: growth) {
            if let shard, !shard.contains(item.id) {
                report.otherShards += 1
                continue
            }
            try await emit(item)
            report.items += 1
        }
        report.noteShare(of: shard, unit: "topics")
        return growth.stop
    }
}
