import KilnProviders

/// The batch coordinator's decisions, as a value: when the requests that arrive for a provider with `batch: true`
/// go out as a submission, and how often a submission is looked at. Pure (times are seconds on the run's clock),
/// so every decision is unit tested without waiting; the coordinator actor carries out the actions.
struct BatchGathering: Sendable {
    /// What the coordinator must do now.
    enum Action: Sendable, Equatable {
        /// Send these requests as one submission.
        case submit([String])
        /// Call `check` at this time (a single timer: never more than one is asked for at once).
        case checkAt(Double)
    }

    /// The most requests in one submission (`batch_size`).
    let maxRequests: Int
    /// How long no new request must arrive before what is pending goes out.
    let quietPeriod: Double
    /// The longest a request waits for company while requests keep trickling in (a slow stage upstream).
    let longestGathering: Double
    /// Request hashes waiting for the next submission, in arrival order.
    private(set) var pending: [String] = []
    private var firstArrival = 0.0
    private var lastArrival = 0.0
    /// When the one scheduled check is due, if one is.
    private(set) var checkDue: Double?

    init(maxRequests: Int, quietPeriod: Double = 0.3, longestGathering: Double = 30) {
        self.maxRequests = max(1, maxRequests)
        self.quietPeriod = quietPeriod
        self.longestGathering = longestGathering
    }

    /// A request arrives: a full submission goes out at once; otherwise a check is scheduled for when the quiet
    /// period would end.
    mutating func arrive(_ hash: String, now: Double) -> [Action] {
        if pending.isEmpty { firstArrival = now }
        pending.append(hash)
        lastArrival = now
        var actions = takeFull(now: now)
        if !pending.isEmpty, checkDue == nil { actions += schedule(now: now) }
        return actions
    }

    /// The scheduled check: what is pending goes out once none arrived for the quiet period, or once the oldest has
    /// waited `longestGathering`; else the check is pushed back.
    mutating func check(now: Double) -> [Action] {
        checkDue = nil
        guard !pending.isEmpty else { return [] }
        if now < lastArrival + quietPeriod, now < firstArrival + longestGathering { return schedule(now: now) }
        let bodies = pending
        pending.removeAll()
        return stride(from: 0, to: bodies.count, by: maxRequests).map {
            .submit(Array(bodies[$0..<min($0 + maxRequests, bodies.count)]))
        }
    }

    /// The run stops: what is pending is never sent.
    mutating func abandon() -> [String] {
        defer { pending.removeAll() }
        checkDue = nil
        return pending
    }

    /// Full submissions out of what is pending; the rest starts gathering anew.
    private mutating func takeFull(now: Double) -> [Action] {
        var actions: [Action] = []
        while pending.count >= maxRequests {
            actions.append(.submit(Array(pending.prefix(maxRequests))))
            pending.removeFirst(maxRequests)
            firstArrival = now
        }
        return actions
    }

    private mutating func schedule(now: Double) -> [Action] {
        let due = min(lastArrival + quietPeriod, firstArrival + longestGathering)
        checkDue = max(due, now)
        return [.checkAt(checkDue ?? now)]
    }
}

/// How often a submission is looked at: first after a second, then half as long again each time, up to
/// `batch_poll_max_s`; a failed look backs off too, and honours the provider's Retry-After.
struct BatchPollSchedule: Sendable, Equatable {
    let maxSeconds: Double
    /// The wait before the next look.
    private(set) var delay: Double

    init(maxSeconds: Double, first: Double = 1) {
        self.maxSeconds = maxSeconds
        delay = min(first, maxSeconds)
    }

    /// After a look that found the batch still running.
    mutating func looked() {
        delay = min(delay * 1.5, maxSeconds)
    }

    /// After a look that failed with a retryable error.
    mutating func failed(retryAfter: Double?) {
        delay = min(max(delay * 1.5, retryAfter ?? 0), max(maxSeconds, retryAfter ?? 0))
    }
}
