import Foundation
package import KilnBasics
package import KilnModel

/// One side of a comparison: a run from the history, or a committed summary.json.
package struct RunSide: Sendable {
    /// One judge stage's items.
    package struct Stage: Sendable {
        package var id: String
        package var scoreTypes: [String: ScoreType]
        /// Score names in the order the report shows them.
        package var scoreOrder: [String]
        package var items: [ScoredItem]

        package init(id: String, scoreTypes: [String: ScoreType], scoreOrder: [String], items: [ScoredItem]) {
            self.id = id
            self.scoreTypes = scoreTypes
            self.scoreOrder = scoreOrder
            self.items = items
        }

        /// From a judge stage's summary (as summary.json or a run record holds it) and its items.
        package init(summary: JSONValue, items: [ScoredItem]) {
            var types: [String: ScoreType] = [:]
            var order: [String] = []
            for (name, type) in summary["score_types"]?.objectValue ?? JSONObject() {
                order.append(name)
                types[name] = type.stringValue.flatMap(ScoreType.init(rawValue:))
            }
            for item in items {
                for name in item.scores.keys.sorted() where !order.contains(name) { order.append(name) }
            }
            self.init(id: summary["stage"]?.stringValue ?? "", scoreTypes: types, scoreOrder: order, items: items)
        }
    }

    /// The run id, or the file it was read from.
    package var name: String
    package var stages: [Stage]
    /// Stage fingerprints, when the side is a run (to say which stages were asked something else).
    package var fingerprints: [String: String]

    package init(name: String, stages: [Stage], fingerprints: [String: String] = [:]) {
        self.name = name
        self.stages = stages
        self.fingerprints = fingerprints
    }
}

/// What changed between two runs of an eval, computed from what they kept (no call): per judge stage, model and
/// score, the change in mean and pass rate with a bootstrap interval; and the items that regressed, improved,
/// appeared or disappeared.
package struct RunComparison: Sendable {
    /// One score of one model in one stage, before and after.
    package struct ScoreRow: Sendable {
        package var stage: String
        package var group: String
        package var score: String
        package var type: ScoreType?
        package var countBefore: Int
        package var countAfter: Int
        package var mean: MeanChange
        /// Pass/fail scores: the change in the share that passed (a score of 0.5 or more).
        package var passRate: MeanChange?
    }

    package enum Change: String, Sendable, CaseIterable {
        case regressed, improved, appeared, disappeared
    }

    /// An item whose scores changed, or that only one run has.
    package struct ItemRow: Sendable {
        package var stage: String
        package var change: Change
        package var before: ScoredItem?
        package var after: ScoredItem?
        package var key: String { (after ?? before)?.key ?? "" }
        package var group: String { (after ?? before)?.group ?? "" }
        /// Scores that changed: (name, before, after), worst change first.
        package var deltas: [(score: String, before: Double, after: Double)]
    }

    package var before: String
    package var after: String
    package var rows: [ScoreRow]
    package var items: [ItemRow]
    /// Items both runs judged the same, per stage.
    package var unchangedByStage: [String: Int]
    package var unchanged: Int { unchangedByStage.values.reduce(0, +) }
    /// Judge stages only one side has.
    package var unmatchedStages: [String]
    /// Stages asked something else in the later run (settings, providers, task, data or a stage upstream).
    package var changedStages: [String]

    package init(_ before: RunSide, _ after: RunSide) {
        self.before = before.name
        self.after = after.name
        rows = []
        items = []
        unchangedByStage = [:]
        changedStages = after.fingerprints.keys.sorted().filter { id in
            before.fingerprints[id].map { $0 != after.fingerprints[id] } ?? false
        }
        let afterIDs = Set(after.stages.map(\.id))
        unmatchedStages =
            before.stages.map(\.id).filter { !afterIDs.contains($0) }
            + after.stages.map(\.id).filter { id in !before.stages.contains { $0.id == id } }
        for stage in after.stages {
            guard let old = before.stages.first(where: { $0.id == stage.id }) else { continue }
            compare(old, stage)
        }
    }

    private mutating func compare(_ before: RunSide.Stage, _ after: RunSide.Stage) {
        let oldItems = Dictionary(before.items.map { ("\($0.group)\u{0}\($0.key)", $0) }) { first, _ in first }
        let newKeys = Set(after.items.map { "\($0.group)\u{0}\($0.key)" })
        var groups: [String] = []
        for item in before.items + after.items where !groups.contains(item.group) { groups.append(item.group) }
        let order = after.scoreOrder + before.scoreOrder.filter { !after.scoreOrder.contains($0) }
        for group in groups {
            let old = before.items.filter { $0.group == group }
            let new = after.items.filter { $0.group == group }
            let matched = new.compactMap { item in oldItems["\(group)\u{0}\(item.key)"].map { ($0, item) } }
            let paired = matched.count == old.count && matched.count == new.count
            for score in order {
                let type = after.scoreTypes[score] ?? before.scoreTypes[score]
                let seed = UInt64(SHA256.hex("\(after.id)|\(group)|\(score)").prefix(16), radix: 16) ?? 0
                func change(_ value: (Double) -> Double) -> MeanChange? {
                    if paired {
                        let pairs = matched.compactMap { pair in
                            pair.0.scores[score].flatMap { a in pair.1.scores[score].map { (value(a), value($0)) } }
                        }
                        if pairs.count == matched.count {
                            return MeanChange(paired: pairs.map(\.0), pairs.map(\.1), seed: seed)
                        }
                    }
                    return MeanChange(
                        independent: old.compactMap { $0.scores[score].map(value) },
                        new.compactMap { $0.scores[score].map(value) }, seed: seed)
                }
                guard let mean = change({ $0 }) else { continue }
                let passes = type.map { $0 != .fiveStar } ?? false
                rows.append(
                    ScoreRow(
                        stage: after.id, group: group, score: score, type: type,
                        countBefore: old.filter { $0.scores[score] != nil }.count,
                        countAfter: new.filter { $0.scores[score] != nil }.count, mean: mean,
                        passRate: passes ? change { $0 >= 0.5 ? 1 : 0 } : nil))
            }
        }
        for item in after.items {
            guard let old = oldItems["\(item.group)\u{0}\(item.key)"] else {
                items.append(ItemRow(stage: after.id, change: .appeared, before: nil, after: item, deltas: []))
                continue
            }
            let deltas = order.compactMap { score -> (String, Double, Double)? in
                guard let a = old.scores[score], let b = item.scores[score], abs(a - b) > 1e-9 else { return nil }
                return (score, a, b)
            }.sorted { $0.2 - $0.1 < $1.2 - $1.1 }
            guard let worst = deltas.first else {
                unchangedByStage[after.id, default: 0] += 1
                continue
            }
            let change: Change = worst.2 < worst.1 ? .regressed : .improved
            items.append(ItemRow(stage: after.id, change: change, before: old, after: item, deltas: deltas))
        }
        for item in before.items where !newKeys.contains("\(item.group)\u{0}\(item.key)") {
            items.append(ItemRow(stage: after.id, change: .disappeared, before: item, after: nil, deltas: []))
        }
    }

    /// The part of the comparison about one judge stage.
    package func only(stage: String) -> RunComparison {
        var part = self
        part.rows = rows.filter { $0.stage == stage }
        part.items = items.filter { $0.stage == stage }
        part.unchangedByStage = unchangedByStage.filter { $0.key == stage }
        return part
    }

    /// The items with this change, in run order.
    package func items(_ change: Change) -> [ItemRow] { items.filter { $0.change == change } }
}

extension RunSide {
    /// A committed summary.json as a baseline: its stage and its `results` (scores and texts of every item).
    package init(summaryFile path: String) throws {
        let document: JSONValue
        do {
            document = try JSONValue(
                parsing: String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self))
        } catch {
            throw ActionableError(
                "cannot read the baseline \(path): \(error)",
                hint: "give a summary.json a judge stage wrote (its report folder), or a run id from kiln-pipe runs")
        }
        guard document["stage"]?.stringValue != nil, let results = document["results"]?.arrayValue else {
            throw ActionableError(
                "the baseline \(path) is not a summary.json with item results",
                hint: "use the summary.json a judge stage's report folder holds after a run (it lists every item's "
                    + "scores under `results`), or a run id from kiln-pipe runs")
        }
        self.init(
            name: path, stages: [Stage(summary: document, items: results.compactMap(ScoredItem.init(summaryJSON:)))])
    }
}
