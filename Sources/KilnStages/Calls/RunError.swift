import Foundation
package import KilnBasics

/// Why a run stopped before finishing its work; each maps to one documented exit code.
package enum RunStop: Error, Sendable, Equatable {
    /// A provider rejected the key: nothing more can succeed until it is fixed.
    case keyRejected(String)
    /// The provider account is out of quota or credit.
    case quotaExhausted(String)
    /// The cost budget would be passed by the next call.
    case budgetReached(spentUSD: Double, limitUSD: Double)
    /// Ctrl-C.
    case interrupted
    /// A validated result could not be checkpointed (a full disk, a database gone): calls made now would be paid
    /// for and lost.
    case storeUnwritable(String)
    /// A provider that never answered in this run cannot be reached at all (connection refused, unknown host):
    /// retrying every item for minutes would only delay the same error.
    case unreachable(String)
    /// A stage could not go on (a bad row under `on_error: fail`, an unwritable output file): the other stages
    /// finished what they had in flight, and what was done is saved.
    case stageFailed(String)
}

/// A problem that prevents a run from starting (exit 2): missing key, unreadable input, a search with no index.
package typealias RunSetupError = ActionableError

extension RunStop: CustomStringConvertible {
    /// What stopped the run and how to continue.
    package var description: String {
        switch self {
        case .keyRejected(let message): "the provider rejected the API key: \(message)"
        case .quotaExhausted(let message): "the provider account is out of quota: \(message)"
        case .budgetReached(let spent, let limit):
            "budget reached: $\(String(format: "%.4f", spent)) spent of $\(String(format: "%.4f", limit)); "
                + "raise --max-cost or max_cost_usd to continue"
        case .interrupted: "interrupted"
        case .unreachable(let message), .stageFailed(let message): message
        case .storeUnwritable(let message):
            "the checkpoint store cannot be written, so the run stopped before paying for answers it could not "
                + "keep: \(message); fix the store and rerun (what was saved is kept)"
        }
    }
}
