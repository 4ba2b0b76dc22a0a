package import Foundation

/// What a run learns when it claims a call other runs on the same store may be making too.
package enum SharedClaim: Sendable, Equatable {
    /// Nobody else is making it: this run calls, then publishes the answer (or releases the claim).
    case mine
    /// Another run already has the answer.
    case answered(status: Int, body: Data)
    /// A live run is making it now: wait for its answer.
    case busy
}

/// Answers shared by the runs working on one store at once (an overlapping nightly job, a CI retry), so that no
/// request is paid for twice: a run claims a request before sending it, publishes the answer, and a run that
/// finds the claim taken waits for that answer instead of calling. A claim of a run that stopped beating (killed)
/// is free again after `liveSeconds`.
package protocol SharedAnswers: Sendable {
    /// Registers `holder` as a live run, or refreshes it; returns how many other runs are live.
    func heartbeat(holder: String, now: Double) async throws -> Int
    /// Claims `requestHash` for `holder` until `until` (unless another live run holds it, or it is answered).
    func claim(_ requestHash: String, holder: String, until: Double, now: Double) async throws -> SharedClaim
    /// The answer to a claimed request, for the runs waiting on it.
    func publish(_ requestHash: String, status: Int, body: Data, holder: String, now: Double) async throws
    /// Gives a claim back unanswered (the call failed): a waiting run may call.
    func release(_ requestHash: String, holder: String) async throws
    /// The run ended: its claims go, and answers older than `keepSeconds` are forgotten.
    func leave(holder: String, now: Double) async throws
}

extension SharedAnswers {
    /// A run that has not beaten for this long is gone (killed): its claims are free.
    package static var liveSeconds: Double { 5 }
    /// Answers are kept this long for runs that wait on them.
    package static var keepSeconds: Double { 600 }
}
