import KilnBasics
import Synchronization

/// Identical requests of one run (two rows with one question, two agents whose searches found the same passages):
/// while the first is in flight the others wait for its outcome, and one that comes just after it finished (before
/// its unit's checkpoint is in the store) takes its answer — the request is paid for once.
final class SharedRequests<Answer: Sendable>: Sendable {
    /// What a waiting request learns: the outcome, or that the request ended before it queued (send it then).
    private enum Outcome: Sendable {
        case answered(Answer)
        case gone
    }

    private struct State {
        var waiting: [String: [CheckedContinuation<Outcome, Never>]] = [:]
        /// The last answers kept: enough for a unit window's checkpoints to land.
        var recent: RecentValues<String, Answer>
    }

    private let state: Mutex<State>

    init(keep: Int = 256) { state = Mutex(State(recent: RecentValues(limit: keep))) }

    /// `.send` when no request with this key is in flight or just answered (the caller sends it, then calls
    /// `finish`); else that request's outcome.
    enum Turn: Sendable {
        case send
        case answered(Answer)
    }

    func join(_ key: String) async -> Turn {
        while true {
            let first = state.withLock { state -> Turn? in
                if let answer = state.recent[key] { return .answered(answer) }
                guard state.waiting[key] == nil else { return nil }
                state.waiting[key] = []
                return .send
            }
            if let first { return first }
            let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let queued = state.withLock { state -> Bool in
                    guard state.waiting[key] != nil else { return false }
                    state.waiting[key]?.append(continuation)
                    return true
                }
                if !queued { continuation.resume(returning: .gone) }
            }
            if case .answered(let answer) = outcome { return .answered(answer) }
        }
    }

    /// Hands the outcome to every request that waited for it; `keep` it for requests that come just after.
    func finish(_ key: String, with answer: Answer, keep: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            if keep { state.recent.keep(answer, for: key) }
            return state.waiting.removeValue(forKey: key) ?? []
        }
        for waiter in waiters { waiter.resume(returning: .answered(answer)) }
    }
}
