/// Which stages of a run have finished, for stages that wait on one they do not read from (an `outputs` stage
/// whose search tool searches an index stage waits until that index is built).
actor StageCompletions {
    private var finished: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Marks `stage` finished (whatever its outcome) and wakes what waits for it.
    func finish(_ stage: String) {
        finished.insert(stage)
        for waiter in waiting.removeValue(forKey: stage) ?? [] { waiter.resume() }
    }

    /// Returns once `stage` has finished.
    func wait(for stage: String) async {
        if finished.contains(stage) { return }
        await withCheckedContinuation { waiting[stage, default: []].append($0) }
    }
}
