import Foundation
import KilnBasics
import KilnModel
import Synchronization

/// An MCP server kiln-pipe starts over stdio (newline-delimited JSON-RPC 2.0): `initialize`, `tools/list`,
/// `tools/call`. The server's stderr is kept (its last 2,000 characters) for the message when it dies; a server
/// that exited is started again on the next call.
final class MCPStdioServer: MCPServer {
    let spec: MCPServerSpec
    private struct State {
        var process: Process?
        var input: FileHandle?
        var nextID = 1
        /// Calls waiting for an answer, with the start whose process they were sent to.
        var pending: [Int: (generation: Int, continuation: CheckedContinuation<JSONValue, any Error>)] = [:]
        var stderrTail = ""
        var exitStatus: Int32?
        /// Which start the process belongs to: a late exit of an earlier process leaves a restarted one alone.
        var generation = 0
    }
    private let state = Mutex(State())

    init(spec: MCPServerSpec) { self.spec = spec }

    deinit { stop() }

    var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }

    /// The last lines the server wrote to stderr.
    var stderrTail: String { state.withLock { $0.stderrTail } }

    /// Starts the process and does the MCP handshake.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [spec.command] + spec.arguments
        process.environment = ProcessInfo.processInfo.environment.merging(spec.environment) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        process.terminationHandler = { [weak self] process in
            self?.exited(status: process.terminationStatus, generation: generation)
        }
        do {
            try process.run()
        } catch {
            throw MCPFailure(description: "cannot start MCP server '\(spec.name)' (\(spec.command)): \(error)")
        }
        state.withLock {
            $0.process = process
            $0.input = stdin.fileHandleForWriting
            $0.exitStatus = nil
        }
        let reading = stdout.fileHandleForReading
        Thread.detachNewThread { [weak self] in
            var buffer = Data()
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let end = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<end]
                    buffer.removeSubrange(buffer.startIndex...end)
                    self?.received(line)
                }
            }
        }
        let errors = stderr.fileHandleForReading
        Thread.detachNewThread { [weak self] in
            while true {
                let chunk = errors.availableData
                if chunk.isEmpty { break }
                self?.state.withLock { state in
                    state.stderrTail = String((state.stderrTail + String(decoding: chunk, as: UTF8.self)).suffix(2000))
                }
            }
        }
        _ = try await request("initialize", MCPMessages.initializeParams)
        try send(MCPMessages.initialized)
    }

    func stop() {
        let process = state.withLock { state -> Process? in
            try? state.input?.close()
            state.input = nil
            return state.process
        }
        if let process, process.isRunning { process.terminate() }
    }

    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let id: Int? = state.withLock { state in
                guard state.exitStatus == nil, state.input != nil else { return nil }
                let id = state.nextID
                state.nextID += 1
                state.pending[id] = (state.generation, continuation)
                return id
            }
            guard let id else {
                continuation.resume(throwing: gone())
                return
            }
            do {
                try send(MCPMessages.request(id: id, method: method, params: params))
            } catch {
                if let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) {
                    pending.continuation.resume(throwing: error)
                }
            }
        }
    }

    private func send(_ message: JSONValue) throws {
        let data = Data((message.serialized() + "\n").utf8)
        let input = state.withLock { $0.input }
        guard let input else { throw gone() }
        do {
            try input.write(contentsOf: data)
        } catch {
            throw gone()
        }
    }

    private func received(_ line: Data) {
        guard let message = try? JSONValue(parsing: String(decoding: line, as: UTF8.self)),
            let id = message["id"]?.numberValue.map({ Int($0) })
        else { return }
        guard let continuation = state.withLock({ $0.pending.removeValue(forKey: id) })?.continuation else { return }
        continuation.resume(with: MCPMessages.result(of: message, server: spec.name))
    }

    private func exited(status: Int32, generation: Int) {
        // Let the stderr reader take the last words before the pending calls are told.
        Thread.sleep(forTimeInterval: 0.05)
        let (pending, failure) = state.withLock { state -> ([CheckedContinuation<JSONValue, any Error>], MCPFailure) in
            // The calls sent to this process fail; a process started since (a restart) is left alone.
            let mine = state.pending.filter { $0.value.generation == generation }
            for id in mine.keys { state.pending[id] = nil }
            if state.generation == generation {
                state.exitStatus = status
                state.input = nil
            }
            return (mine.values.map(\.continuation), Self.exited(spec.name, status: status, said: state.stderrTail))
        }
        for continuation in pending { continuation.resume(throwing: failure) }
    }

    private func gone() -> MCPFailure {
        let (status, tail) = state.withLock { ($0.exitStatus, $0.stderrTail) }
        return Self.exited(spec.name, status: status, said: tail)
    }

    /// "MCP server 'calc' exited (exit status 3): <its last stderr lines>".
    private static func exited(_ name: String, status: Int32?, said: String) -> MCPFailure {
        let exit = status.map { " (exit status \($0))" } ?? ""
        let lines = said.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(5)
        return MCPFailure(
            description: "MCP server '\(name)' exited\(exit)"
                + (lines.isEmpty ? "" : ": \(lines.joined(separator: " | "))"),
            serverGone: true)
    }
}
