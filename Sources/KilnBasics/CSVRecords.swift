/// RFC 4180 records from a CSV file, read line by line: quoted fields may hold commas, quotes and newlines.
package final class CSVRecords {
    private let lines: LineReader
    /// The line a returned record started on.
    package private(set) var firstLine = 0

    package init(path: String) throws {
        lines = try LineReader(path: path)
    }

    package func next() -> [String]? {
        guard var line = lines.next() else { return nil }
        firstLine = lines.lineNumber
        while Self.openQuote(line), let more = lines.next() { line += "\n" + more }
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
