package import KilnModel
package import KilnStore

/// What a helper that calls one provider for a stage needs: the provider as declared, its pool entry and the
/// executor (nil offline: no call can be made), the store it caches in, and the stage's cache mode.
package struct CallAccess: Sendable {
    let provider: ProviderConfig?
    let entry: ProviderPool.Entry?
    let executor: CallExecutor?
    let store: any CheckpointStore
    let stageID: String
    let mode: CacheMode

    package init(
        provider: ProviderConfig?, entry: ProviderPool.Entry?, executor: CallExecutor?, store: any CheckpointStore,
        stageID: String, mode: CacheMode
    ) {
        self.provider = provider
        self.entry = entry
        self.executor = executor
        self.store = store
        self.stageID = stageID
        self.mode = mode
    }
}
