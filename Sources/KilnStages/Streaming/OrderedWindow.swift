/// Runs `transform` on each element with at most `concurrency` running at once (a sliding window over a bounded
/// task group: one in per one out) and hands results to `emit` in input order. At most `window` (default 2 ×
/// `concurrency`) elements are taken but not yet emitted, so memory is bounded by the window, not by the input.
package func forEachOrdered<Element: Sendable, Output: Sendable>(
    _ next: () async -> Element?, concurrency: Int, window: Int? = nil,
    transform: @escaping @Sendable (Element) async -> Output,
    emit: (Output) async throws -> Void,
    shouldStop: () async -> Bool = { false }
) async throws {
    let limit = max(1, concurrency)
    let window = max(limit, window ?? 2 * limit)
    try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var pending: [Int: Output] = [:]
        var nextIndex = 0
        var nextToEmit = 0
        var running = 0
        var exhausted = false
        while true {
            while !exhausted, running < limit, nextIndex - nextToEmit < window {
                if await shouldStop() {
                    exhausted = true
                    break
                }
                guard let element = await next() else {
                    exhausted = true
                    break
                }
                let index = nextIndex
                nextIndex += 1
                running += 1
                group.addTask { (index, await transform(element)) }
            }
            guard running > 0 else { break }
            guard let (index, output) = try await group.next() else { break }
            running -= 1
            pending[index] = output
            while let ready = pending.removeValue(forKey: nextToEmit) {
                try await emit(ready)
                nextToEmit += 1
            }
        }
    }
}
