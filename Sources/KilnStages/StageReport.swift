package import KilnModel

/// What one stage did in a run.
package struct StageReport: Sendable, Hashable {
    package var id: String
    package var type: StageType
    /// Items the stage passed on.
    package var items = 0
    /// Units of work served from the checkpoint store (no call made).
    package var cached = 0
    /// Units computed in this run.
    package var computed = 0
    package var failed = 0
    /// Input rows skipped by `on_error: skip`.
    package var skipped = 0
    /// Items dropped by `dedup`, `min_chars` or `max_chars`.
    package var filtered = 0
    /// Offline replays only: units the store has no answer for, and what making them would cost.
    package var pending = 0
    /// Items (or documents) left to other shards in a `--shard` run.
    package var otherShards = 0
    package var pendingCalls = 0
    package var pendingUsage = Usage()
    /// Provider requests sent, retries included.
    package var requests = 0
    package var usage = Usage()
    /// What the units served from the store cost when they were computed (in earlier runs).
    package var storedUsage = Usage()
    /// The first failures and skipped rows, with their reasons, and the first notes.
    package var problems: [String] = []
    /// The file the stage's items were written to.
    package var outputFile: String?
    /// Other files the stage wrote (export stages: one per part).
    package var files: [String] = []
    /// Judge stages: every threshold condition per model, and the share of failed items they tolerate.
    package var thresholds: [ThresholdOutcome] = []
    package var maxErrorRate: Double?
    /// The store keys of the units the stage looked up, as one order-independent digest (the run history keeps it:
    /// two runs with equal digests asked a stage for the same units).
    package var unitKeys = UnitKeyDigest()
    /// Split stages: the realised size of each part, in the order declared.
    package var parts: [(name: String, count: Int)] {
        get { zip(partNames, partCounts).map { ($0, $1) } }
        set {
            partNames = newValue.map(\.name)
            partCounts = newValue.map(\.count)
        }
    }
    private var partNames: [String] = []
    private var partCounts: [Int] = []

    package init(id: String, type: StageType) {
        self.id = id
        self.type = type
    }

    /// Notes (warnings, what the stage did) for the summary: the first five, besides the first five failures, so a
    /// folder of failures never hides a warning that text was dropped.
    package mutating func note(_ problem: String) {
        if problems.count - shownFailures < Self.shownOfEach { problems.append(problem) }
    }

    /// How many failures, and how many other notes, the summary shows.
    static let shownOfEach = 5

    /// How many of `failures` are among `problems`: the first five.
    package var shownFailures: Int { min(failures.count, Self.shownOfEach) }

    /// Every unit, row or document that failed or was skipped, with its reason (up to `failureLimit`), for
    /// `status --json`; `problems` keeps the first few notes for the summary.
    package var failures: [String] = []
    package static let failureLimit = 10_000

    /// A unit, document or export line that failed: counted, noted, and kept in `failures`.
    package mutating func fail(_ reason: String) {
        failed += 1
        keep(reason)
    }

    /// A source row skipped by `on_error: skip`: counted, noted, and kept in `failures`.
    mutating func skip(_ reason: String) {
        skipped += 1
        keep(reason)
    }

    private mutating func keep(_ reason: String) {
        if failures.count < Self.failureLimit { failures.append(reason) }
        if failures.count <= Self.shownOfEach { problems.append(reason) }
    }

    /// Says how a source stage's items were divided, in a sharded run.
    mutating func noteShare(of shard: Shard?, unit: String) {
        guard let shard else { return }
        note("shard \(shard): \(items) \(unit) here, \(otherShards) in the other shards")
    }
}

/// The outcome of a whole run.
package struct RunReport: Sendable {
    package var stages: [StageReport]
    /// Why the run stopped early, if it did.
    package var stop: RunStop?
    package var statePath: String

    package init(stages: [StageReport], stop: RunStop?, statePath: String) {
        self.stages = stages
        self.stop = stop
        self.statePath = statePath
    }

    /// Units that did not end done: failed, or (offline) not in the store.
    package var failedItems: Int { stages.reduce(0) { $0 + $1.failed + $1.pending } }

    /// Units of work attempted in this run (served, computed, failed or missing).
    package var units: Int { stages.reduce(0) { $0 + $1.cached + $1.computed + $1.failed + $1.pending } }

    package var thresholds: [ThresholdOutcome] { stages.flatMap(\.thresholds) }

    /// Failures stay below every judge stage's `max_error_rate`, so the thresholds decide the outcome.
    package var failuresTolerated: Bool {
        guard failedItems > 0 else { return true }
        let tolerance = stages.compactMap(\.maxErrorRate).min() ?? 0
        return Double(failedItems) / Double(max(units, 1)) <= tolerance
    }
    package var usage: Usage { stages.reduce(Usage()) { $0 + $1.usage } }
}
