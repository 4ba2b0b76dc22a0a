/// The misbehaviours the fake provider can be told to show, to prove the engine survives each.
package enum FaultKind: String, Sendable, Hashable, CaseIterable {
    /// 429 with `Retry-After: 1` (seconds).
    case rateLimit = "rate_limit"
    /// 429 with `Retry-After` as an HTTP-date.
    case rateLimitDate = "rate_limit_date"
    /// 429 `insufficient_quota`: retrying cannot help.
    case quota
    /// 401: the key was rejected.
    case unauthorized
    /// 400: the request was refused.
    case badRequest = "bad_request"
    case serverError = "server_error"
    case unavailable
    /// The connection is reset without an answer.
    case reset
    /// No answer until long past any sane timeout.
    case hang
    /// 200 with a body that is not JSON.
    case malformed
    /// 200 with content that does not match the requested schema.
    case schemaInvalid = "schema_invalid"
    /// 200 whose body is cut off mid-way.
    case truncated
}

/// When a fault strikes: for a stable share of distinct requests (chosen by the request's hash), on their first
/// `attempts` tries. Deterministic, so a test knows which requests must eventually succeed.
package struct FaultRule: Sendable, Hashable {
    package var kind: FaultKind
    /// Share of distinct requests affected, 0–100.
    package var percent: Int
    /// How many tries of an affected request see the fault; `Int.max` for every try.
    package var attempts: Int

    package init(kind: FaultKind, percent: Int, attempts: Int = 1) {
        self.kind = kind
        self.percent = percent
        self.attempts = attempts
    }

    /// Parses `KIND[:PERCENT[:ATTEMPTS]]`, e.g. `rate_limit:20` or `server_error:10:2` or `unauthorized:100:always`.
    package init?(parsing text: String) {
        let parts = text.split(separator: ":").map(String.init)
        guard let first = parts.first, let kind = FaultKind(rawValue: first) else { return nil }
        let percent = parts.count > 1 ? Int(parts[1]) : 100
        let attempts = parts.count > 2 ? (parts[2] == "always" ? Int.max : Int(parts[2])) : 1
        guard let percent, (0...100).contains(percent), let attempts, attempts >= 1 else { return nil }
        self.init(kind: kind, percent: percent, attempts: attempts)
    }
}

/// How the fake provider behaves.
package struct FakeProviderConfig: Sendable {
    /// Added before every answer.
    package var latencyMS: Int
    package var faults: [FaultRule]
    /// Above this many requests per second (sliding one-second window), answer 429 like a real provider's limit.
    package var hiddenRequestsPerSecond: Int? {
        get { windowLimit.flatMap { $0.seconds == 1 ? $0.count : nil } }
        set { windowLimit = newValue.map { (count: $0, seconds: 1) } }
    }
    /// A sliding-window limit: above `count` accepted requests in any `seconds`, answer 429 (as a provider that
    /// counts a sliding minute does).
    package var windowLimit: (count: Int, seconds: Double)?
    /// A limit quantised per clock second: above this many accepted requests within one second (the count starts
    /// again at each whole second), answer 429 (as OpenAI documents its per-minute limits are enforced).
    package var perSecondLimit: Int?
    /// How long a `hang` lasts.
    package var hangSeconds: Double
    /// How long a submitted batch takes to end.
    package var batchSeconds: Double
    /// Share of distinct requests (by hash) a batch leaves unanswered: the batch ends expired with them.
    package var batchExpiredPercent: Int

    package init(
        latencyMS: Int = 0, faults: [FaultRule] = [], hiddenRequestsPerSecond: Int? = nil, hangSeconds: Double = 30,
        batchSeconds: Double = 1, batchExpiredPercent: Int = 0
    ) {
        self.latencyMS = latencyMS
        self.faults = faults
        self.windowLimit = hiddenRequestsPerSecond.map { (count: $0, seconds: 1) }
        self.hangSeconds = hangSeconds
        self.batchSeconds = batchSeconds
        self.batchExpiredPercent = batchExpiredPercent
    }
}
