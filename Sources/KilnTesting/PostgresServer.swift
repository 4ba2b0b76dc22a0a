import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for tests, on 127.0.0.1 and a free port: `initdb` in a temporary folder, then
/// `postgres` with fsync off, stopped by `stop()`. Debian's `postgresql` package is installed first when its
/// binaries are missing (apt-get, as root or through sudo). As root, the server runs as the `postgres` user,
/// which refuses to run as root.
package final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: every property is set once in `init`; `process` is only stopped through `stop()`.
    package let port: Int
    private let directory: URL
    private let binaries: URL
    private let process: Process
    private let asUser: [String]

    /// Starts a server; throws with what went wrong (and the server's log) when it cannot.
    package init() throws {
        binaries = try Self.installed.get()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        asUser = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if getuid() == 0 {
            try FileManager.default.setAttributes(
                [.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres"], ofItemAtPath: directory.path)
        }
        let data = directory.appendingPathComponent("data").path
        try Self.run(
            asUser + [
                binaries.appendingPathComponent("initdb").path, "-D", data, "-U", "kiln", "-A", "trust", "-E", "UTF8",
                "--no-sync",
            ],
            what: "initdb")
        port = try LoopbackPort.free()
        process = Process()
        let command =
            asUser + [
                binaries.appendingPathComponent("postgres").path, "-D", data, "-h", "127.0.0.1", "-p", String(port),
                "-k",
                directory.path, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        let isReady = [binaries.appendingPathComponent("pg_isready").path, "-q", "-h", "127.0.0.1", "-p", String(port)]
        while (try? Self.run(isReady, what: "pg_isready")) == nil {
            guard process.isRunning, Date() < deadline else {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                stop()
                throw PostgresServerError(message: "postgres did not start on port \(port):\n\(text)")
            }
            usleep(100_000)
        }
        Self.running.withLock { $0.append(self) }
        Self.stopAtExit
    }

    /// Servers still running when the test process exits are stopped then.
    private static let running = Mutex<[PostgresServer]>([])
    private static let stopAtExit: Void = {
        atexit {
            for server in PostgresServer.running.withLock({ $0 }) { server.stop() }
        }
    }()

    /// One server for the whole test process, started on first use.
    package static let shared = Result { try PostgresServer() }

    /// A new empty database on this server, as a `postgres://` URL.
    package func createDatabase() throws -> String {
        let name = "kiln_\(UUID().uuidString.prefix(8).lowercased())"
        try Self.run(
            [
                binaries.appendingPathComponent("createdb").path, "-h", "127.0.0.1", "-p", String(port), "-U", "kiln",
                name,
            ],
            what: "createdb")
        return "postgres://kiln@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Stops the server (fast shutdown) and removes its files.
    package func stop() {
        if process.isRunning {
            // Fast shutdown: clients still connected (a test's idle pool) are disconnected, not waited for.
            try? Self.run(
                asUser + [
                    binaries.appendingPathComponent("pg_ctl").path, "stop", "-m", "fast", "-w", "-D",
                    directory.appendingPathComponent("data").path,
                ], what: "pg_ctl stop")
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Where initdb and postgres are, installing Debian's package when they are missing (once per process).
    private static let installed = Result { try binaries() }

    private static func binaries() throws -> URL {
        func find() -> URL? {
            let root = URL(fileURLWithPath: "/usr/lib/postgresql")
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map {
                root.appendingPathComponent($0).appendingPathComponent("bin")
            }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("postgres").path) }
        }
        if let found = find() { return found }
        let sudo = getuid() == 0 ? [] : ["/usr/bin/sudo"]
        try run(sudo + ["/usr/bin/apt-get", "update", "-qq"], what: "apt-get update")
        try run(
            sudo + ["/usr/bin/env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "postgresql"],
            what: "apt-get install postgresql")
        guard let found = find() else {
            throw PostgresServerError(
                message: "apt-get installed postgresql, but no /usr/lib/postgresql/*/bin/postgres")
        }
        return found
    }

    private static func run(_ command: [String], what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresServerError(
                message: "\(what) exited \(process.terminationStatus): \(String(decoding: text, as: UTF8.self))")
        }
    }
}

/// Why the test PostgreSQL server could not be set up.
package struct PostgresServerError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
