/// A loaded, checked pipeline file: providers, the task, and the stage graph.
package struct Pipeline: Sendable, Hashable {
    /// The file it was read from, as the user named it.
    package var sourcePath: String
    package var version: Int
    package var name: String
    package var description: String?
    /// `vars:` after interpolation.
    package var vars: [String: String]
    /// Providers in file order; names are unique.
    package var providers: [ProviderConfig]
    package var task: TaskDefinition?
    /// Stop dispatching new paid calls once spend plus in-flight estimate would pass this.
    package var maxCostUSD: Double?
    /// Stages in file order; ids are unique, `from:` references resolve and form no cycle.
    package var stages: [StageSpec]

    package init(
        sourcePath: String, version: Int = 1, name: String, description: String? = nil,
        vars: [String: String] = [:], providers: [ProviderConfig] = [], task: TaskDefinition? = nil,
        maxCostUSD: Double? = nil, stages: [StageSpec] = []
    ) {
        self.sourcePath = sourcePath
        self.version = version
        self.name = name
        self.description = description
        self.vars = vars
        self.providers = providers
        self.task = task
        self.maxCostUSD = maxCostUSD
        self.stages = stages
    }

    package func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }

    package func stage(withID id: String) -> StageSpec? {
        stages.first { $0.id == id }
    }

    /// The nearest stage above `stage` (following `from:`, breadth first) that `matches`.
    package func nearestStage(above stage: StageSpec, matching matches: (StageSpec) -> Bool) -> StageSpec? {
        var frontier = stage.from
        var seen = Set<String>()
        while !frontier.isEmpty {
            let id = frontier.removeFirst()
            guard seen.insert(id).inserted, let upstream = self.stage(withID: id) else { continue }
            if matches(upstream) { return upstream }
            frontier += upstream.from
        }
        return nil
    }
}
