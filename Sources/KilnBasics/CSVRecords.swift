/// RFC 4180 records from a CSV file, read line by line: quoted fields may hold commas, quotes and newlines.
package final class CSVRecords {
    private let lines: LineReader
    /// The line a returned record started on.
    package private(set) var firstLine = 0

    package init(path: String) throws {
        lines = try LineReader(path: path)
    }

    /// Where the record last returned stopped being UTF-8: its line, byte and column; nil for a valid record.
    package private(set) var invalidUTF8: (line: Int, byte: UInt8, column: Int)?

    package func next() -> [String]? {
        guard var line = lines.next() else { return nil }
        firstLine = lines.lineNumber
        invalidUTF8 = lines.invalidUTF8.map { (lines.lineNumber, $0.byte, $0.column) }
        while Self.openQuote(line), let more = lines.next() {
            line += "\n" + more
            if invalidUTF8 == nil { invalidUTF8 = lines.invalidUTF8.map { (lines.lineNumber, $0.byte, $0.column) } }
        }
        return Self.fields(line)
    }

    static func openQuote(_ line: String) -> Bool { line.filter { $0 == "\"" }.count % 2 == 1 }

    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var characters = Array(line)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        characters.removeFirst()
                        current.append("\"")
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else if character != "\r" {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
