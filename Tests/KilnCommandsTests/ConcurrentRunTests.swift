import Foundation
import KilnFakeProvider
import KilnTesting
import Testing

/// Two runs of one pipeline on one store at once (an overlapping nightly job, a CI retry): every request is paid
/// for once, and both end with the same complete outputs.
@Suite(.serialized) struct ConcurrentRuns {
    /// Starts `count` runs of the scenario's pipeline at the same moment and waits for all of them.
    static func runTogether(
        _ scenario: RunScenario, count: Int, delays: [Double] = [], extra: [String] = []
    ) throws -> [Int32] {
        let processes = (0..<count).map { _ in Process() }
        let errors = (0..<count).map { scenario.directory.appendingPathComponent("stderr\($0).txt") }
        for (index, process) in processes.enumerated() {
            process.executableURL = KilnPipeBinary.url
            process.arguments = ["run", "p.yml", "--quiet"] + extra
            process.currentDirectoryURL = scenario.directory
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "FAKE_KEY": "k"]
            process.standardOutput = FileHandle.nullDevice
            _ = FileManager.default.createFile(atPath: errors[index].path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors[index])
            if index < delays.count { Thread.sleep(forTimeInterval: delays[index]) }
            try process.run()
        }
        for process in processes { process.waitUntilExit() }
        for (process, file) in zip(processes, errors) where process.terminationStatus != 0 {
            Issue.record("exit \(process.terminationStatus): \((try? String(contentsOf: file, encoding: .utf8)) ?? "")")
        }
        return processes.map(\.terminationStatus)
    }

    @Test(arguments: [[], [0, 0.15]])
    func twoRunsOnOneStorePayForEachRequestOnce(_ delays: [Double]) throws {
        let reference = try RunScenario(rows: 300, latencyMS: 20, maxConcurrency: 16)
        defer { reference.finish() }
        #expect(try reference.run().status == 0)
        let scenario = try RunScenario(rows: 300, latencyMS: 20, maxConcurrency: 16)
        defer { scenario.finish() }
        let statuses = try Self.runTogether(scenario, count: 2, delays: delays)
        #expect(statuses == [0, 0])
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.duplicateSuccesses == 0, "\(statistics.duplicateSuccesses) requests paid twice")
        #expect(statistics.succeeded == 300)
        #expect(Self.recordedRuns(scenario) == 2, "both runs are in the history")
        // The output file is whole (each run wrote its own temporary file and renamed it) and as one run makes it.
        #expect(
            scenario.outputLines.map(CrashSafety.withoutTimings)
                == reference.outputLines.map(CrashSafety.withoutTimings))
    }

    /// Two unsharded runs on one PostgreSQL store (two machines sharing a database): the same.
    @Test func twoRunsOnOneDatabasePayForEachRequestOnce() throws {
        let server = try PostgresServer.shared.get()
        let scenario = try RunScenario(rows: 200, latencyMS: 20, maxConcurrency: 16)
        defer { scenario.finish() }
        let url = try server.createDatabase()
        let statuses = try Self.runTogether(scenario, count: 2, extra: ["--state", url])
        #expect(statuses == [0, 0])
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.duplicateSuccesses == 0, "\(statistics.duplicateSuccesses) requests paid twice")
        #expect(statistics.succeeded == 200)
        #expect(scenario.outputLines.count == 200)
        #expect(Self.recordedRuns(scenario, extra: ["--state", url]) == 2, "both runs are in the history")
    }

    /// How many runs `kiln-pipe runs` lists.
    static func recordedRuns(_ scenario: RunScenario, extra: [String] = []) -> Int? {
        let listed = try? KilnPipeBinary.run(["runs", "p.yml", "--json"] + extra, in: scenario.directory)
        let document = listed.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) }
        return ((document as? [String: Any])?["runs"] as? [Any])?.count
    }
}
