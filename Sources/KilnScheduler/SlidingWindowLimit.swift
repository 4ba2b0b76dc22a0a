/// At most `count` grants in any `period` seconds, as a provider's sliding-window limit counts them: a burst of
/// `count` at once, then each grant waits until the one `count` grants before it is `period` old. With `count`
/// one request's worth of the rate it paces evenly; with a minute's worth it uses a sliding-minute limit fully.
package struct SlidingWindowLimit: Sendable {
    package let count: Int
    package let period: Double
    /// Grant times, oldest first, from `head` on (older ones are dropped in batches).
    private var grants: [Double] = []
    private var head = 0

    package init(count: Int, period: Double) {
        self.count = max(1, count)
        self.period = period
    }

    /// `count` requests a minute allowed, `burst` of them at once. The window is 1% longer than the provider's:
    /// a request arrives a little after it is granted, and not always equally late, so a window exactly as long
    /// as the provider's had the 601st of 600 arrive inside it (5 refusals, then a learnt rate that cost 20 s).
    package init(requestsPerMinute: Int, burst: Int) {
        let burst = max(1, min(burst, requestsPerMinute))
        self.init(count: burst, period: 1.01 * Double(burst) * 60 / Double(requestsPerMinute))
    }

    /// When the next grant may go.
    package mutating func readyTime(now: Double) -> Double {
        forget(before: now - period)
        let live = grants.count - head
        return live < count ? now : grants[grants.count - count] + period
    }

    package mutating func take(now: Double) {
        grants.append(now)
        forget(before: now - period)
    }

    private mutating func forget(before start: Double) {
        while head < grants.count, grants[head] <= start { head += 1 }
        if head > 4096 {
            grants.removeFirst(head)
            head = 0
        }
    }
}
