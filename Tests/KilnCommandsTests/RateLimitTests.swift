import Foundation
import KilnFakeProvider
import Testing

/// Rate limits against a fake that refuses requests above a hidden rate, like a provider's own limiter.
@Suite(.serialized) struct RateLimits {
    @Test func theRequestsPerMinuteLimitHoldsInEveryOneSecondWindow() throws {
        // rpm 1200 = 20 per second, one request of burst: the provider (counting a sliding second) never sees 23.
        let scenario = try RunScenario(rows: 90, maxConcurrency: 16, rpm: 1200, hiddenRequestsPerSecond: 23)
        defer { scenario.finish() }
        let started = Date()
        let outcome = try scenario.run()
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.hiddenLimitRejections == 0, "never above the limit")
        #expect(elapsed >= 4, "90 requests at 20/s take about 4.5 s, not less: \(elapsed) s")
    }

    @Test func adaptiveConcurrencySettlesNearAHiddenLimitWithFew429s() throws {
        // No rpm configured: only the 429s tell the engine that the provider takes 40 requests per second.
        let scenario = try RunScenario(
            rows: 240, latencyMS: 50, maxConcurrency: 64, maxRetries: 12, hiddenRequestsPerSecond: 40)
        defer { scenario.finish() }
        let started = Date()
        let outcome = try scenario.run()
        let elapsed = Date().timeIntervalSince(started)
        let statistics = scenario.fake.currentStatistics
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(scenario.outputLines.count == 240)
        let share = Double(statistics.hiddenLimitRejections) / Double(statistics.requests)
        #expect(share < 0.25, "few 429s once settled: \(statistics.hiddenLimitRejections) of \(statistics.requests)")
        #expect(
            elapsed < 12,
            "throughput near the hidden rate (ideal 6 s; the rate-collapse regression took 19 s): \(elapsed) s")
        #expect(statistics.duplicateSuccesses == 0)
    }
}
