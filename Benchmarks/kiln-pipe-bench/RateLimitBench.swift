import Foundation
import KilnFakeProvider

/// Rate limits used to the last request: a binding sliding-window limit, a per-second quantised limit (both as the
/// fake enforces them, refusing with 429 above them), and sporadic 429s with Retry-After. Each run's time is set
/// against the ideal the limit allows, and refusals against the requests sent.
enum RateLimitBench {
    struct Scenario {
        var label: String
        var items: Int
        var provider: String
        var fake: FakeProviderConfig
        /// The best time the limit allows (seconds), or the fault-free run's time when nil.
        var ideal: Double?
        var target: String
        /// What `ideal` is.
        var versus = "ideal"
    }

    static func run(in work: URL, latencyMS: Int) throws {
        print("\nrate limits (L=\(latencyMS)ms, C=64):")
        let latency = Double(latencyMS) / 1000
        var sliding = FakeProviderConfig(latencyMS: latencyMS)
        sliding.windowLimit = (count: 600, seconds: 60)
        var quantised = FakeProviderConfig(latencyMS: latencyMS)
        quantised.perSecondLimit = 40
        let faultFree = try measure(
            Scenario(
                label: "fault-free", items: 4000, provider: "max_concurrency: 64",
                fake: FakeProviderConfig(latencyMS: latencyMS), ideal: 4000 * latency / 64, target: "reference"),
            in: work)
        let scenarios = [
            // 900 requests against 600 per sliding minute: 600 at once, 300 a minute after the first.
            Scenario(
                label: "sliding minute 600, rpm 600 burst 600", items: 900,
                provider: "max_concurrency: 64, rpm: 600, burst: 600", fake: sliding, ideal: 60 + 2 * latency,
                target: "≤ 1.1 × ideal, ≤ 1% refused"),
            // 40 per clock second (2400 rpm, quantised per second, as OpenAI documents): the default burst.
            Scenario(
                label: "40 per clock second, rpm 2400", items: 800, provider: "max_concurrency: 64, rpm: 2400",
                fake: quantised, ideal: 800 / 40 - 1 + latency, target: "≤ 2% refused"),
            Scenario(
                label: "5% 429 with Retry-After: 1", items: 4000, provider: "max_concurrency: 64",
                fake: FakeProviderConfig(
                    latencyMS: latencyMS, faults: [FaultRule(kind: .rateLimit, percent: 5, attempts: 1)]),
                ideal: faultFree, target: "≤ 1.5 × the fault-free run", versus: "fault-free"),
        ]
        for scenario in scenarios { _ = try measure(scenario, in: work) }
    }

    /// Runs one scenario against a fresh fake and store; prints and returns its wall time.
    static func measure(_ scenario: Scenario, in work: URL) throws -> Double {
        let fake = FakeProvider(config: scenario.fake)
        try fake.start()
        defer { fake.stop() }
        let name = "limit\(abs(scenario.label.hashValue % 100_000))"
        try Entrypoint.writeRows(scenario.items, to: work.appendingPathComponent("\(name).jsonl"))
        try Entrypoint.callsPipeline(name, baseURL: fake.baseURL, provider: scenario.provider, rows: name)
            .write(to: work.appendingPathComponent("\(name).yml"), atomically: true, encoding: .utf8)
        let result = try Entrypoint.measure(["run", "\(name).yml", "--quiet", "--state", "\(name).sqlite"], in: work)
        let statistics = fake.currentStatistics
        let refused = statistics.byStatus[429] ?? 0
        let share = Double(refused) / Double(max(1, statistics.requests))
        let ratio = scenario.ideal.map { result.wallSeconds / $0 }
        print(
            "  \(scenario.label.padding(toLength: 38, withPad: " ", startingAt: 0)) \(scenario.items) items: "
                + "\(Entrypoint.format(result.wallSeconds)) s"
                + (ratio.map { " = \(Entrypoint.format($0)) × \(scenario.versus)" } ?? "")
                + ", \(refused) of \(statistics.requests) requests refused (\(Entrypoint.format(100 * share, 1))%), "
                + "exit \(result.status) (target \(scenario.target))")
        return result.wallSeconds
    }
}
