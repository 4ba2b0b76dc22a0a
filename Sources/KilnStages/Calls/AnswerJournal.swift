import Foundation
import KilnBasics
package import KilnProviders
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every answer a provider sent, appended to a file the moment it arrives — before it is decoded, validated, or
/// waits for the store's group commit — so a run killed at any point loses (at most) the answers still on the
/// wire. The next run reads the journals that runs left behind and answers a request from them instead of paying
/// for it again; a run that ends (finished or stopped: its answers are in the store) deletes its own journal and
/// those it read whose writers are gone.
///
/// One `write(2)` per answer on a file opened with `O_APPEND`: the page cache survives a killed process (not a
/// power cut, like the store's `synchronous=NORMAL`). An answer is needed only until its unit's result is committed
/// (milliseconds later), so the journal starts a new file every `rotationSeconds` and deletes the one before the
/// last: what a killed run leaves behind, and what the next run reads, is at most two periods of answers.
package final class AnswerJournal: Sendable {
    package static let rotationSeconds = 15.0
    private struct Writer {
        var descriptor: Int32
        var sequence: Int
        var openedAt: Double
        var files: [String]
    }
    private let prefix: String
    private let writer: Mutex<Writer>
    /// Answers read from earlier runs' journals, by request hash; each is used once (a retry goes live).
    private let earlier: Mutex<[String: HTTPResponse]>
    /// The journals read, for `finish` to delete once their writers are gone.
    private let readFiles: [String]

    /// Opens a journal in `folder` (created if missing) and reads the ones there.
    package init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var answers: [String: HTTPResponse] = [:]
        var files: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".jsonl")
        {
            let path = folder + "/" + name
            files.append(path)
            guard let reader = try? LineReader(path: path, encoding: .utf8) else { continue }
            // A line cut off by a kill does not parse and is skipped: its answer is asked again.
            while let line = reader.next() {
                guard let entry = try? JSONValue(parsing: line), let hash = entry["h"]?.stringValue,
                    let status = entry["s"]?.numberValue, let body = entry["b"]?.stringValue
                else { continue }
                answers[hash] = HTTPResponse(status: Int(status), headers: [:], body: Data(body.utf8))
            }
        }
        earlier = Mutex(answers)
        readFiles = files
        prefix = folder + "/\(getpid())-\(UUID().uuidString.prefix(8))-"
        let first = prefix + "0.jsonl"
        let descriptor = open(first, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ActionableError(
                "cannot write the answer journal \(first): \(String(cString: strerror(errno)))",
                hint: "the journal lives next to the checkpoint store; choose a writable --state")
        }
        writer = Mutex(
            Writer(descriptor: descriptor, sequence: 0, openedAt: Date().timeIntervalSince1970, files: [first]))
    }

    deinit { writer.withLock { _ = close($0.descriptor) } }

    /// The answer an earlier run got for this request, once.
    package func take(_ requestHash: String) -> HTTPResponse? {
        earlier.withLock { $0.removeValue(forKey: requestHash) }
    }

    /// Appends a successful answer (as text; a body that is not UTF-8 is not kept).
    package func record(_ requestHash: String, _ response: HTTPResponse) {
        guard (200..<300).contains(response.status), let body = String(data: response.body, encoding: .utf8) else {
            return
        }
        let line =
            JSONValue.object(
                JSONObject([("h", .string(requestHash)), ("s", .integer(response.status)), ("b", .string(body))])
            ).serialized() + "\n"
        var bytes = Array(line.utf8)
        let now = Date().timeIntervalSince1970
        let stale = writer.withLock { writer -> String? in
            var stale: String?
            if now - writer.openedAt > Self.rotationSeconds {
                let next = prefix + "\(writer.sequence + 1).jsonl"
                let descriptor = open(next, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                if descriptor >= 0 {
                    close(writer.descriptor)
                    writer = Writer(
                        descriptor: descriptor, sequence: writer.sequence + 1, openedAt: now,
                        files: writer.files + [next])
                    if writer.files.count > 2 { stale = writer.files.removeFirst() }
                }
            }
            _ = bytes.withUnsafeMutableBytes { Glibc.write(writer.descriptor, $0.baseAddress, $0.count) }
            return stale
        }
        if let stale { try? FileManager.default.removeItem(atPath: stale) }
    }

    /// The run ended with its answers in the store: its journal, and the ones it read whose writers have exited,
    /// are no longer needed.
    package func finish() {
        for file in writer.withLock({ $0.files }) { try? FileManager.default.removeItem(atPath: file) }
        for path in readFiles where !Self.writerIsAlive(path) {
            try? FileManager.default.removeItem(atPath: path)
        }
        // The folder stays: removing it when it looks empty would pull it from under a run opening its journal.
    }

    /// Whether the process that named the journal `<pid>-…` still runs (another run sharing the store).
    static func writerIsAlive(_ path: String) -> Bool {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let pid = Int32(name.prefix { $0 != "-" }), pid != getpid() else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
