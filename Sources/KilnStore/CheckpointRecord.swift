package import KilnBasics
package import KilnModel

/// One finished unit of work: a validated result, or a failure with its reason. Never an unvalidated response.
package struct CheckpointRecord: Sendable, Hashable {
    /// Whether the unit of work succeeded.
    package enum Status: String, Sendable, Hashable {
        case done
        case failed
    }

    /// Content address of the unit of work (see `CheckpointKey`).
    package var key: String
    package var stage: String
    package var status: Status
    /// The output item when done.
    package var item: JSONValue?
    /// Why it failed, in words a user can act on.
    package var error: String?
    package var usage: Usage
    package var latencyMS: Int
    package var attempts: Int
    /// The provider calls the result came from (two for chain of thought), kept for replay; never secrets.
    package var calls: [RecordedCall]

    package init(
        key: String, stage: String, status: Status, item: JSONValue? = nil, error: String? = nil,
        usage: Usage = Usage(), latencyMS: Int = 0, attempts: Int = 1, calls: [RecordedCall] = []
    ) {
        self.key = key
        self.stage = stage
        self.status = status
        self.item = item
        self.error = error
        self.usage = usage
        self.latencyMS = latencyMS
        self.attempts = attempts
        self.calls = calls
    }
}

/// A provider call as sent and answered, keyed by the hash of the exact request.
package struct RecordedCall: Sendable, Hashable {
    package var requestHash: String
    package var provider: String
    package var request: JSONValue
    package var response: JSONValue
    /// `request` as it was serialized for sending, when known: the store keeps it instead of serializing again.
    package var requestText: String?

    package init(
        requestHash: String, provider: String, request: JSONValue, response: JSONValue, requestText: String? = nil
    ) {
        self.requestHash = requestHash
        self.provider = provider
        self.request = request
        self.response = response
        self.requestText = requestText
    }

    /// The same call, whether or not it still carries its serialized request.
    package static func == (lhs: RecordedCall, rhs: RecordedCall) -> Bool {
        lhs.requestHash == rhs.requestHash && lhs.provider == rhs.provider && lhs.request == rhs.request
            && lhs.response == rhs.response
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(requestHash)
        hasher.combine(provider)
        hasher.combine(request)
        hasher.combine(response)
    }
}

/// Per-stage totals over the store, for `status`.
package struct StageTally: Sendable, Hashable {
    package var stage: String
    package var done: Int
    package var failed: Int
    package var usage: Usage
    /// The most recent failure reasons, newest first.
    package var recentErrors: [String]

    package init(stage: String, done: Int = 0, failed: Int = 0, usage: Usage = Usage(), recentErrors: [String] = []) {
        self.stage = stage
        self.done = done
        self.failed = failed
        self.usage = usage
        self.recentErrors = recentErrors
    }

    /// Adds `count` records of `status` (a `Status` raw value) and their usage.
    package mutating func add(status: String, count: Int, usage: Usage) {
        if status == CheckpointRecord.Status.done.rawValue { done += count } else { failed += count }
        self.usage += usage
    }
}
