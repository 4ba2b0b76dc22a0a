import Foundation
package import KilnBasics

/// Writes JSON lines to a temporary file and renames it into place on `close`, so a crash never leaves a
/// half-written file where a complete one is expected. The temporary name is the process's own
/// (`name.<pid>.partial`): two runs writing the same file never write into one another's, and the file is whole
/// whichever finishes last.
package final class JSONLinesWriter {
    private let path: String
    private let temporary: String
    private let handle: FileHandle
    private var buffer = Data()

    package init(path: String) throws {
        self.path = path
        temporary = path + ".\(getpid()).partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw RunSetupError(
                "cannot write \(path): \(String(cString: strerror(errno)))",
                hint: "check that its folder exists and is writable (--out for a run's files, out: for an export)")
        }
        self.handle = handle
    }

    package func write(_ value: JSONValue) throws {
        try write(line: value.serialized())
    }

    /// Writes one preformatted line (a newline is added).
    package func write(line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 16 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Drops what was written: the `.partial` file is removed and the target left as it was.
    package func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }

    package func close() throws {
        try flush()
        try handle.close()
        // rename(2) replaces the target atomically: a reader sees the old file or the new one, never neither.
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw RunSetupError("cannot write \(path): \(reason)", hint: "check that its folder is writable")
        }
    }
}
