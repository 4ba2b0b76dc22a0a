/// RFC 4180 records from a CSV file, read line by line: quoted fields may hold commas, quotes and newlines. A quote
/// that never closes — or closes only lines later into a record of the wrong width — does not swallow the rows
/// after it: the record is reported (`unclosedQuote`) and the lines it took are read again as rows of their own.
package final class CSVRecords {
    private let lines: LineReader
    /// Lines taken by a record that turned out to be an unclosed quote, to read again (last first).
    private var replay: [(text: String, number: Int, undecodable: (byte: UInt8, column: Int)?)] = []
    /// The line a returned record started on.
    package private(set) var firstLine = 0
    /// Where the record last returned stopped being UTF-8: its line, byte and column; nil for a valid record.
    package private(set) var undecodable: (line: Int, byte: UInt8, column: Int)?
    /// Set when the record last returned opened a quote that does not close: its fields are the opening line's.
    package private(set) var unclosedQuote = false
    /// The most lines one quoted field may span.
    static let maximumRecordLines = 10_000

    package init(path: String, encoding: TextEncoding = .auto) throws {
        lines = try LineReader(path: path, encoding: encoding)
    }

    /// How the file's lines decode.
    package var layout: TextEncoding.Layout { lines.layout }

    private func nextLine() -> (text: String, number: Int, undecodable: (byte: UInt8, column: Int)?)? {
        if let line = replay.popLast() { return line }
        guard let text = lines.next() else { return nil }
        return (text, lines.lineNumber, lines.undecodable)
    }

    /// The next record; `columns`, when known (the header's width), tells a multi-line record that really is one
    /// from an unclosed quote that ran into later rows.
    package func next(columns: Int? = nil) -> [String]? {
        guard let first = nextLine() else { return nil }
        firstLine = first.number
        unclosedQuote = false
        var text = first.text
        var taken: [(text: String, number: Int, undecodable: (byte: UInt8, column: Int)?)] = []
        // Whether a quote is open is the parity of the quotes so far: each line taken is counted once (a record
        // of 10,000 lines is read in linear time).
        var open = Self.openQuote(text)
        while open, taken.count < Self.maximumRecordLines, let more = nextLine() {
            taken.append(more)
            text += "\n" + more.text
            if Self.openQuote(more.text) { open.toggle() }
        }
        let fields = Self.fields(text)
        let closed =
            !open
            && (taken.isEmpty || (columns.map { fields.count == $0 } ?? true) && Self.quotesCloseCleanly(text))
        guard closed else {
            unclosedQuote = true
            replay += taken.reversed()
            undecodable = first.undecodable.map { (first.number, $0.byte, $0.column) }
            return Self.fields(first.text)
        }
        undecodable =
            ([first] + taken).lazy.compactMap { line in
                line.undecodable.map { (line.number, $0.byte, $0.column) }
            }.first
        return fields
    }

    /// Whether every closing quote is followed by a separator, a line end or the end (`"a"b` is not a field).
    static func quotesCloseCleanly(_ text: String) -> Bool {
        var quoted = false
        var characters = Array(text)[...]
        var atFieldStart = true
        while let character = characters.popFirst() {
            if quoted {
                guard character == "\"" else { continue }
                if characters.first == "\"" {
                    characters.removeFirst()
                } else {
                    quoted = false
                    if let next = characters.first, next != ",", next != "\n", next != "\r" { return false }
                }
            } else if character == "\"", atFieldStart {
                quoted = true
            }
            atFieldStart = character == "," || character == "\n"
        }
        return true
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
