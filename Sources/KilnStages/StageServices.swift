import KilnBasics
package import KilnModel
package import KilnStore

/// What a generation stage works with: its task, its provider, and the engine's pool, executor and store.
package struct StageServices: Sendable {
    let stageID: String
    let task: TaskDefinition
    /// The provider as declared in the pipeline (for keys and provenance).
    let provider: ProviderConfig?
    /// Nil when only planning: no call can be made then.
    let pool: ProviderPool?
    let executor: CallExecutor?
    let store: any CheckpointStore
    let mode: CacheMode

    package init(
        stageID: String, task: TaskDefinition, provider: ProviderConfig?, pool: ProviderPool?, executor: CallExecutor?,
        store: any CheckpointStore, mode: CacheMode
    ) {
        self.stageID = stageID
        self.task = task
        self.provider = provider
        self.pool = pool
        self.executor = executor
        self.store = store
        self.mode = mode
    }

    /// The key prefix every unit of a generation stage shares: stage type, prompt and validator versions, the
    /// task, the model and its sampling parameters, plus the stage's own settings in `extra`.
    func fingerprint(type: StageType, promptVersion: String, extra: [(String, JSONValue)]) -> String {
        var components = JSONObject(extra)
        components["stage_type"] = .string(type.rawValue)
        components["prompt_version"] = .string(promptVersion)
        components["validator_version"] = .string(AnswerValidation.version)
        components["task"] = .string(task.instruction)
        components["model"] = ModelFingerprint.json(provider)
        return CheckpointKey.make(components)
    }
}
