import Foundation
import KilnBasics

/// Writes JSON lines to a temporary file and renames it into place on `close`, so a crash never leaves a
/// half-written file where a complete one is expected.
final class JSONLinesWriter {
    private let path: String
    private let temporary: String
    private let handle: FileHandle
    private var buffer = Data()

    init(path: String) throws {
        self.path = path
        temporary = path + ".partial"
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw RunSetupError("cannot write \(temporary)", hint: "check that the output folder is writable")
        }
        self.handle = handle
    }

    func write(_ value: JSONValue) throws {
        try write(line: value.serialized())
    }

    /// Writes one preformatted line (a newline is added).
    func write(line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 16 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Drops what was written: the `.partial` file is removed and the target left as it was.
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }

    func close() throws {
        try flush()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
