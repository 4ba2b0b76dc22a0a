import Foundation
import KilnFakeProvider

#if canImport(Glibc)
import Glibc
#endif

/// Answers paid for twice after a run was stopped hard (SIGKILL at random moments) or asked to stop (SIGTERM):
/// the provider (an in-process fake on loopback) counts every answer it delivered to a connected client, and a
/// second delivery for the same request is a payment made twice.
enum CrashBench {
    static func run(in work: URL, items: Int, latencyMS: Int, concurrency: Int) throws {
        print("\nanswers paid twice after a stop (N=\(items), L=\(latencyMS)ms, C=\(concurrency)):")
        let fake = FakeProvider(config: FakeProviderConfig(latencyMS: latencyMS))
        try fake.start()
        defer { fake.stop() }
        try Entrypoint.callsPipeline(
            "crash", baseURL: fake.baseURL, provider: "max_concurrency: \(concurrency)", rows: "crashrows"
        ).write(to: work.appendingPathComponent("crash.yml"), atomically: true, encoding: .utf8)
        try Entrypoint.writeRows(items, to: work.appendingPathComponent("crashrows.jsonl"))
        let ideal = Double(items) * Double(latencyMS) / 1000 / Double(concurrency)
        var generator = SystemRandomNumberGenerator()
        var killedAt: [Double] = []
        for _ in 0..<3 {
            let delay = Double.random(in: 0.15...0.6, using: &generator) * ideal
            guard
                let moment = try stopped(
                    ["run", "crash.yml", "--quiet", "--state", "crash.sqlite"], in: work, after: delay)
            else { break }
            killedAt.append(moment)
        }
        // What a kill lost is asked again by the runs after it; each answer paid twice belongs to the kill
        // nearest its first delivery. One delivered after the signal reached a process the kernel was still
        // tearing down (its sockets open): no client can keep that one, so it is shown apart.
        let final = try Entrypoint.measure(["run", "crash.yml", "--quiet", "--state", "crash.sqlite"], in: work)
        var before = [Int](repeating: 0, count: killedAt.count)
        var after = before
        var latest = 0.0
        for first in fake.firstDeliveriesOfRepaid {
            guard let kill = killedAt.indices.min(by: { abs(killedAt[$0] - first) < abs(killedAt[$1] - first) })
            else { continue }
            if first <= killedAt[kill] {
                before[kill] += 1
            } else {
                after[kill] += 1
                latest = max(latest, first - killedAt[kill])
            }
        }
        let statistics = fake.currentStatistics
        let once = statistics.succeeded - statistics.duplicateSuccesses
        print(
            "  kill -9 at random moments, \(killedAt.count) kills: re-paid answers delivered before the signal, "
                + "per kill \(before) (target ≤ 2 each); final run exit \(final.status), "
                + "\(once) of \(items) answered once")
        print(
            "    and delivered after the kill signal, while the dying process still held its connections: \(after) "
                + "(up to \(Entrypoint.format(latest * 1000)) ms after it; no client can keep these)")

        // SIGTERM mid-run: in-flight calls finish and are saved; the resume pays for none of them again.
        let term = FakeProvider(config: FakeProviderConfig(latencyMS: latencyMS))
        try term.start()
        defer { term.stop() }
        let text = try String(contentsOf: work.appendingPathComponent("crash.yml"), encoding: .utf8)
        try text.replacingOccurrences(of: fake.baseURL, with: term.baseURL).write(
            to: work.appendingPathComponent("term.yml"), atomically: true, encoding: .utf8)
        _ = try stopped(
            ["run", "term.yml", "--quiet", "--state", "term.sqlite"], in: work, after: 0.5 * ideal, signal: SIGTERM)
        let resumed = try Entrypoint.measure(["run", "term.yml", "--quiet", "--state", "term.sqlite"], in: work)
        print(
            "  SIGTERM at half-way, then resume: \(term.currentStatistics.duplicateSuccesses) answers re-paid "
                + "(target 0); resume exit \(resumed.status)")

        // Two runs of one pipeline on one store, started together: each request paid for once.
        let shared = FakeProvider(config: FakeProviderConfig(latencyMS: latencyMS))
        try shared.start()
        defer { shared.stop() }
        try text.replacingOccurrences(of: fake.baseURL, with: shared.baseURL).write(
            to: work.appendingPathComponent("shared.yml"), atomically: true, encoding: .utf8)
        let runs = (0..<2).map { _ in Process() }
        for run in runs {
            run.executableURL = Entrypoint.binaries.appendingPathComponent("kiln-pipe")
            run.arguments = [
                "run", work.appendingPathComponent("shared.yml").path, "--quiet", "--state",
                work.appendingPathComponent("shared.sqlite").path,
            ]
            run.currentDirectoryURL = work
            run.standardOutput = FileHandle.nullDevice
            try run.run()
        }
        for run in runs { run.waitUntilExit() }
        let both = shared.currentStatistics
        print(
            "  two runs on one store started together: \(both.duplicateSuccesses) requests paid twice (target 0), "
                + "\(both.succeeded) answered for \(items) items, exits \(runs.map(\.terminationStatus))")
    }

    /// Starts kiln-pipe and sends `signal` after `seconds`; when the run was still going, the moment it was
    /// signalled (seconds since 1970).
    static func stopped(
        _ arguments: [String], in directory: URL, after seconds: Double, signal: Int32 = SIGKILL
    ) throws -> Double? {
        let process = Process()
        process.executableURL = Entrypoint.binaries.appendingPathComponent("kiln-pipe")
        process.arguments = arguments.map {
            $0.hasSuffix(".yml") || $0.hasSuffix(".sqlite") ? directory.appendingPathComponent($0).path : $0
        }
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: seconds)
        var moment: Double?
        if process.isRunning {
            moment = Date().timeIntervalSince1970
            kill(process.processIdentifier, signal)
        }
        process.waitUntilExit()
        return moment
    }
}
