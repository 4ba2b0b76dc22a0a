#if canImport(Glibc)
import Glibc
#endif

/// The entries of one folder as the system names them: bytes, not Foundation's decoded strings, so a name that is
/// not UTF-8 is seen (and reported) instead of vanishing.
struct DirectoryEntries {
    struct Entry {
        /// The name as text; nil when its bytes are not UTF-8.
        var name: String?
        /// The name for a message: bytes that are not UTF-8 as `\xNN`, line breaks as `\n`.
        var shownName: String
        /// A real folder (a symbolic link to one is not walked into, as Foundation's enumerator does not).
        var isDirectory: Bool
    }

    static func of(_ folder: String) -> [Entry] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let pointer = readdir(directory) {
            let bytes = withUnsafeBytes(of: pointer.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            let name = String(validating: bytes, as: UTF8.self)
            var isDirectory = pointer.pointee.d_type == UInt8(DT_DIR)
            if pointer.pointee.d_type == UInt8(DT_UNKNOWN), let name {
                var status = stat()
                isDirectory = lstat(folder + "/" + name, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append(Entry(name: name, shownName: shown(bytes), isDirectory: isDirectory))
        }
        return entries
    }

    static func shown(_ bytes: [UInt8]) -> String {
        var shown = ""
        var rest = bytes[...]
        while !rest.isEmpty {
            let valid = TextPosition.firstInvalidUTF8(rest) ?? rest.count
            shown += String(decoding: rest.prefix(valid), as: UTF8.self)
            rest = rest.dropFirst(valid)
            if let byte = rest.popFirst() { shown += "\\x" + String(byte, radix: 16, uppercase: true) }
        }
        return shown.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: "\\n")
    }
}
