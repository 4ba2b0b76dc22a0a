/// Why a provider call failed, classified by what can be done about it.
package struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The classes of failure the scheduler treats differently.
    package enum Kind: String, Sendable, Hashable {
        /// 429: slow down and retry, after `retryAfter` when given.
        case rateLimited = "rate_limited"
        /// 429 insufficient_quota: the account is out of credit; stops the run.
        case quotaExhausted = "quota_exhausted"
        /// 401/403 about the key: stops the run.
        case unauthorized
        /// 400/403/404/422: this request will never succeed; fails the item.
        case rejected
        /// 5xx: retry, without slowing down.
        case serverError = "server_error"
        /// Connection refused or reset: retry.
        case connection
        /// No answer within the timeout: retry.
        case timeout
        /// A 200 whose body is not a usable answer (malformed, truncated, no choices): retry.
        case invalidResponse = "invalid_response"
    }

    package var kind: Kind
    package var message: String
    package var status: Int?
    /// Seconds the provider asked us to wait (Retry-After), if it said.
    package var retryAfter: Double?

    package init(_ kind: Kind, _ message: String, status: Int? = nil, retryAfter: Double? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
    }

    /// Whether trying the same request again can succeed.
    package var isRetryable: Bool {
        switch kind {
        case .rateLimited, .serverError, .connection, .timeout, .invalidResponse: true
        case .quotaExhausted, .unauthorized, .rejected: false
        }
    }

    /// Whether no other request can succeed either, so the run must stop.
    package var stopsRun: Bool { kind == .quotaExhausted || kind == .unauthorized }

    package var description: String {
        status.map { "HTTP \($0): \(message)" } ?? message
    }
}
