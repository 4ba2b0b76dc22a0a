import Foundation

/// Runs the built `kiln-pipe` binary as a user would and captures what it prints.
struct KilnPipeBinary {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary SwiftPM built next to this test bundle (`KILN_PIPE_BIN` overrides).
    static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["KILN_PIPE_BIN"] { return URL(fileURLWithPath: path) }
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        let candidate = directory.appendingPathComponent("kiln-pipe")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return executable.appendingPathComponent("kiln-pipe")
    }()

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Starts the binary without waiting for it (its output discarded): for tests that kill it or run several.
    static func start(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root"].merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The JSON objects of a JSON-lines text (a stage's output file, a `--json` run's events); other lines are
    /// left out.
    static func jsonObjects(inLines text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The JSON objects of a JSON-lines file; none when it is missing.
    static func jsonObjects(inFile file: URL) -> [[String: Any]] {
        jsonObjects(inLines: (try? String(contentsOf: file, encoding: .utf8)) ?? "")
    }

    static func run(
        _ arguments: [String], in directory: URL = repositoryRoot, environment: [String: String] = [:],
        executable: URL = url
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root"].merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and block the child.
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}
