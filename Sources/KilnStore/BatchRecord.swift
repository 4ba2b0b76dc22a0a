import Foundation

/// One submission to a provider's batch API, as the checkpoint store keeps it: written *before* the submission is
/// sent, so that a run killed while the provider works on it finds it again and polls it instead of submitting
/// (and paying for) the same requests a second time.
package struct BatchRecord: Sendable, Hashable {
    /// Where a submission stands, as kiln-pipe knows it.
    package enum State: String, Sendable, Hashable, CaseIterable {
        /// Saved, and about to be sent: the provider may or may not have accepted it (a crash in between).
        case submitting
        /// Accepted by the provider (`providerBatchID` is set) and not yet ended.
        case submitted
        /// The provider ended it (completed, expired, cancelled or failed): its results can be read.
        case ended
        /// The provider refused the submission: nothing was accepted, nothing to poll.
        case refused
    }

    /// Content address of the submission: its provider and its requests' hashes.
    package var key: String
    /// The pipeline's name for the provider.
    package var provider: String
    package var state: State
    package var providerBatchID: String?
    /// The provider's own word for the batch's state (`in_progress`, `finalizing`, `ended`, …).
    package var providerStatus: String?
    package var requests: Int
    /// Requests the provider reports answered, and failed (errored, expired, cancelled).
    package var completed: Int
    package var failed: Int
    /// Why it was refused, or what the provider said when it ended badly.
    package var note: String?
    /// Seconds since 1970.
    package var createdAt: Double
    package var updatedAt: Double
    /// The hashes of the requests it carries (custom ids): saved with the first save, never read back whole.
    package var requestHashes: [String]

    package init(
        key: String, provider: String, state: State, providerBatchID: String? = nil, providerStatus: String? = nil,
        requests: Int, completed: Int = 0, failed: Int = 0, note: String? = nil,
        createdAt: Double = Date().timeIntervalSince1970, updatedAt: Double? = nil, requestHashes: [String] = []
    ) {
        self.key = key
        self.provider = provider
        self.state = state
        self.providerBatchID = providerBatchID
        self.providerStatus = providerStatus
        self.requests = requests
        self.completed = completed
        self.failed = failed
        self.note = note
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.requestHashes = requestHashes
    }

    /// How long a provider keeps a batch's results (Anthropic: 29 days): older submissions are not looked up.
    package static let resultsLifetimeSeconds = 29.0 * 86_400
}
