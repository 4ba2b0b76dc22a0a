import Foundation
import KilnFakeProvider
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Killing `kiln-pipe run` with SIGKILL at random moments loses no finished work and corrupts nothing.
@Suite(.serialized) struct CrashSafety {
    @Test func aKilledGenerationRunResumesMidStageWithoutPayingTwice() throws {
        let pipeline = SyntheticDataGeneration.pipeline(depth: 2, breadth: 4, perTopic: 3, models: "[a]")
        let reference = try RunScenario(pipeline: pipeline, latencyMS: 20)
        defer { reference.finish() }
        #expect(try reference.run().status == 0)
        let scenario = try RunScenario(pipeline: pipeline, latencyMS: 20)
        defer { scenario.finish() }
        let kills = try Self.killRepeatedly(scenario, after: [0.15, 0.3, 0.45])
        #expect(try scenario.run().status == 0)
        // Ids of generated items include the endpoint (another port here), so compare what the items say.
        for (stage, field) in [("topics", "topic_path"), ("inputs", "input"), ("outputs", "output")] {
            let expected = reference.items(of: stage).map { Self.canonical($0[field]) }
            let actual = scenario.items(of: stage).map { Self.canonical($0[field]) }
            let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(
                actual == expected,
                Comment(
                    rawValue: "\(stage): \(actual.count) vs \(expected.count) items; first difference at "
                        + "\(firstDifference.map { "\($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "the end")")
            )
        }
        // Every answer is journaled the moment it arrives: a kill can lose only answers still on the wire (before:
        // up to the three stages' windows, 96 answers; 7 seen since with 48 in flight on a busy test machine).
        Self.expectPaidOnce(scenario, units: reference.fake.currentStatistics.succeeded, kills: kills)
    }

    /// Starts `kiln-pipe run` once per delay and SIGKILLs it after that delay; returns how many runs were killed.
    static func killRepeatedly(
        _ scenario: RunScenario, after delays: [Double], extra: [String] = []
    ) throws -> Int {
        try killMoments(scenario, after: delays, extra: extra).count
    }

    /// As `killRepeatedly`, returning when each killed run was signalled (seconds since 1970), to tell the answers
    /// a killed run had received from those still on the wire.
    static func killMoments(
        _ scenario: RunScenario, after delays: [Double], extra: [String] = []
    ) throws -> [Double] {
        var kills: [Double] = []
        for delay in delays {
            let process = Process()
            process.executableURL = KilnPipeBinary.url
            process.arguments = ["run", "p.yml", "--quiet"] + extra
            process.currentDirectoryURL = scenario.directory
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "FAKE_KEY": "k"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                kills.append(Date().timeIntervalSince1970)
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }
        return kills
    }

    /// A value as JSON with sorted keys (a dictionary's description changes order from process to process).
    static func canonical(_ value: Any?) -> String {
        guard let value,
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else {
            return "nil"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Latency is measured per run; everything else must match.
    static func withoutTimings(_ line: String) -> String {
        line.replacing(/"latency_ms":\d+/, with: "\"latency_ms\":0")
    }

    @Test func killedRunsResumeToTheSameOutputsWithoutPayingTwice() throws {
        let reference = try RunScenario(rows: 120, models: ["a", "b"], latencyMS: 15, maxConcurrency: 8)
        defer { reference.finish() }
        #expect(try reference.run().status == 0)
        let expected = reference.outputLines.map(Self.withoutTimings)

        let scenario = try RunScenario(rows: 120, models: ["a", "b"], latencyMS: 15, maxConcurrency: 8)
        defer { scenario.finish() }
        var generator = SystemRandomNumberGenerator()
        // The first kill comes early (the 240 calls take at least 225 ms at 16 in flight), so at least one run dies
        // mid-way; the later ones at random points of what is left (a CI run saw four random kills all come after
        // a quick first run had finished).
        let kills = try Self.killRepeatedly(
            scenario, after: [0.08] + (0..<3).map { _ in Double.random(in: 0.05...0.4, using: &generator) })
        let final = try scenario.run()
        #expect(final.status == 0, "\(final.stdout)\(final.stderr)")
        let actual = scenario.outputLines.map(Self.withoutTimings)
        let differing = zip(actual, expected).filter { $0 != $1 }.count + abs(actual.count - expected.count)
        #expect(
            differing == 0, "same items, same order, same content as an uninterrupted run: \(differing) lines differ")
        // A killed process can lose only answers still on the wire: the others are in its answer journal (before:
        // up to the window, 2 × the slots, 32 answers).
        let statistics = Self.expectPaidOnce(scenario, units: 240, kills: kills)
        let rerun = try scenario.run()
        #expect(rerun.status == 0)
        #expect(scenario.fake.currentStatistics.requests == statistics.requests, "nothing left to do")
    }

    /// The answer journal is local to the machine, so a run on a PostgreSQL store loses no more to a kill.
    @Test func aKilledRunOnPostgresResumesWithoutPayingTwice() throws {
        let server = try PostgresServer.shared.get()
        let scenario = try RunScenario(rows: 120, models: ["a", "b"], latencyMS: 15, maxConcurrency: 8)
        defer { scenario.finish() }
        let url = try server.createDatabase()
        let kills = try Self.killRepeatedly(scenario, after: [0.3, 0.45], extra: ["--state", url])
        let final = try scenario.run(["--state", url])
        #expect(final.status == 0, "\(final.stdout)\(final.stderr)")
        Self.expectPaidOnce(scenario, units: 240, kills: kills)
        #expect(scenario.outputLines.count == 240)
    }

    /// After `kills` kills and a finishing run: at least one run died mid-way, each kill lost at most 8 answers
    /// (`make bench` measures the release build's bound, ≤ 2; a debug build on a busy test machine reads its
    /// sockets later), and every one of `units` was paid for once. Returns the provider's counts.
    @discardableResult
    static func expectPaidOnce(_ scenario: RunScenario, units: Int, kills: Int) -> FakeProviderStatistics {
        let statistics = scenario.fake.currentStatistics
        #expect(kills >= 1, "at least one run was killed mid-way")
        #expect(
            statistics.duplicateSuccesses <= kills * 8,
            "\(statistics.duplicateSuccesses) duplicates after \(kills) kills")
        #expect(statistics.succeeded - statistics.duplicateSuccesses == units, "every unit was paid for once")
        return statistics
    }
}
