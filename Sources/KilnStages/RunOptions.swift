/// How `run` should treat the pipeline.
package struct RunOptions: Sendable {
    /// The checkpoint store file.
    package var statePath: String
    /// Where each stage's items are written as JSONL.
    package var outputDirectory: String
    package var environment: [String: String]
    /// Stages to recompute ignoring the store; empty set with `freshAll` means every stage.
    package var freshStages: Set<String>
    package var freshAll: Bool
    /// Serve everything from the store; a miss is a failed item.
    package var offline: Bool
    /// Run only these stages and the stages that feed them; skip the rest.
    package var onlyStages: Set<String>?
    /// Overrides every provider's `max_concurrency`.
    package var concurrency: Int?
    /// Overrides `max_cost_usd`.
    package var maxCostUSD: Double?
    /// Export stages may replace files kiln-pipe did not write.
    package var force = false
    /// A cassette whose records are added to the store before the run (`run --cassette`).
    package var cassettePath: String?
    /// Planning: nothing is written outside `outputDirectory` (export files and search indexes are left alone).
    package var dryRun = false
    /// `run --shard I/N`: only this shard's items; stages that need every item are left to `afterShards`.
    package var shard: Shard?
    /// `run --after-shards`: every per-item stage is served from the (shared) store, which the shards filled; the
    /// stages that need every item (split, export, index) run.
    package var afterShards = false
    /// Serves `kind: fake` providers without a base_url (the command layer's fake model); nil: such a provider is a
    /// setup error.
    package var fakeModel: (any FakeModelHost)?

    package init(
        statePath: String, outputDirectory: String, environment: [String: String], freshStages: Set<String> = [],
        freshAll: Bool = false, offline: Bool = false, onlyStages: Set<String>? = nil, concurrency: Int? = nil,
        maxCostUSD: Double? = nil
    ) {
        self.statePath = statePath
        self.outputDirectory = outputDirectory
        self.environment = environment
        self.freshStages = freshStages
        self.freshAll = freshAll
        self.offline = offline
        self.onlyStages = onlyStages
        self.concurrency = concurrency
        self.maxCostUSD = maxCostUSD
    }
}
