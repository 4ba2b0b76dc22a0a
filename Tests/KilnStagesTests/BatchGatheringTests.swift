import Testing

@testable import KilnStages

/// The batch coordinator's decisions as a value: when gathered requests go out, and how often a submission is
/// looked at. Times are plain numbers; nothing waits.
@Suite struct BatchGatheringDecisions {
    /// Arrivals (hash, time) and checks (time) in order, with the actions each produced.
    enum Event {
        case arrive(String, at: Double)
        case check(at: Double)
    }

    static func replay(
        _ events: [Event], maxRequests: Int, quiet: Double = 0.3, longest: Double = 30
    ) -> [[BatchGathering.Action]] {
        var gathering = BatchGathering(maxRequests: maxRequests, quietPeriod: quiet, longestGathering: longest)
        return events.map { event in
            switch event {
            case .arrive(let hash, let time): gathering.arrive(hash, now: time)
            case .check(let time): gathering.check(now: time)
            }
        }
    }

    @Test func aFullBatchGoesOutAtOnce() {
        let actions = Self.replay([.arrive("a", at: 0), .arrive("b", at: 0.1)], maxRequests: 2)
        #expect(actions == [[.checkAt(0.3)], [.submit(["a", "b"])]])
    }

    @Test func whatIsPendingGoesOutOnceTheQuietPeriodPassesWithoutArrivals() {
        let actions = Self.replay(
            [.arrive("a", at: 0), .arrive("b", at: 0.2), .check(at: 0.3), .check(at: 0.5)], maxRequests: 10)
        // The first check comes while "b" is fresh: it is pushed back to 0.2 + 0.3.
        #expect(actions == [[.checkAt(0.3)], [], [.checkAt(0.5)], [.submit(["a", "b"])]])
    }

    @Test func aTrickleOfRequestsWaitsNoLongerThanTheLongestGathering() {
        var events: [Event] = []
        var expected: [[BatchGathering.Action]] = []
        // One request every 0.2 s never leaves 0.3 s of quiet; at 1 s the oldest has waited long enough.
        for step in 0..<5 {
            let time = Double(step) * 0.2
            events.append(.arrive("r\(step)", at: time))
            expected.append(step == 0 ? [.checkAt(0.3)] : [])
            events.append(.check(at: time + 0.1))
            expected.append(time + 0.1 >= 1 ? [] : [.checkAt(min(time + 0.3, 1))])
        }
        events.append(.check(at: 1))
        expected.append([.submit(["r0", "r1", "r2", "r3", "r4"])])
        #expect(Self.replay(events, maxRequests: 100, longest: 1) == expected)
    }

    @Test func abandonDropsWhatWasNeverSent() {
        var gathering = BatchGathering(maxRequests: 10)
        _ = gathering.arrive("a", now: 0)
        _ = gathering.arrive("b", now: 0)
        #expect(gathering.abandon() == ["a", "b"])
        #expect(gathering.check(now: 1) == [], "nothing is left to send")
    }

    @Test(arguments: [
        // (max poll seconds, looks, expected delays before each look)
        (60.0, 5, [1.0, 1.5, 2.25, 3.375, 5.0625]),
        (2.0, 4, [1.0, 1.5, 2.0, 2.0]),
    ])
    func pollingBacksOffByHalfAgainUpToTheMaximum(maxSeconds: Double, looks: Int, expected: [Double]) {
        var schedule = BatchPollSchedule(maxSeconds: maxSeconds)
        var delays: [Double] = []
        for _ in 0..<looks {
            delays.append(schedule.delay)
            schedule.looked()
        }
        #expect(delays == expected)
    }

    @Test func aFailedLookHonoursRetryAfterEvenAboveTheMaximum() {
        var schedule = BatchPollSchedule(maxSeconds: 10)
        schedule.failed(retryAfter: 45)
        #expect(schedule.delay == 45)
        schedule.failed(retryAfter: nil)
        #expect(schedule.delay == 10, "without Retry-After the maximum holds again")
    }
}
