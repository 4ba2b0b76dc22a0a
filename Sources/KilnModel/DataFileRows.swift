import Foundation
package import KilnBasics

/// The rows of a JSONL, CSV or JSON-array data file, one at a time, as `load` reads them: a JSON object per
/// non-blank JSONL line, a CSV row keyed by the header, each element of a JSON array. Each row comes with where it
/// was read (`file:line`, `file[index]`) and either its value or why it cannot be read. `load` and `validate` both
/// read through it, so a check on a file's first row sees exactly what a run will.
package final class DataFileRows {
    /// A row that cannot be read: where, and why.
    package struct Problem: Error, Sendable {
        package var location: String
        package var reason: String
    }

    private enum Source {
        case lines(LineReader)
        case csv(CSVRecords)
        case array([JSONValue], next: Int)
    }

    private var source: Source
    /// How rows name the file in their locations (the path as the pipeline wrote it).
    private let shownPath: String
    /// The CSV header, once read.
    package private(set) var header: [String]?

    /// Opens `path`; a JSON file is parsed whole, so one that is not an array of records fails here.
    package init(path: String, format: LoadFormat, shownPath: String, encoding: TextEncoding = .auto) throws {
        self.shownPath = shownPath
        switch format {
        case .jsonl:
            source = .lines(try LineReader(path: path, encoding: encoding))
        case .csv:
            source = .csv(try CSVRecords(path: path, encoding: encoding))
        case .json, .folder, .kiln:
            let decoded = encoding.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            guard let text = decoded.text else {
                throw Problem(
                    location: shownPath,
                    reason: Self.undecodable(in: decoded.layout, at: "offset \(decoded.badOffset)"))
            }
            let document: JSONValue
            do {
                document = try JSONValue(parsing: text)
            } catch {
                throw Problem(location: "\(shownPath):\(error.line)", reason: "invalid JSON: \(error.message)")
            }
            guard let rows = document.arrayValue else {
                throw Problem(location: shownPath, reason: "expected a JSON array of records")
            }
            source = .array(rows, next: 0)
        }
    }

    /// Why text that does not decode is refused: never read with replacement characters behind the user's back.
    package static func undecodable(in layout: TextEncoding.Layout, at place: String) -> String {
        "not \(layout.name) (\(place)); save the file as UTF-8, or name its encoding with `encoding:` on the load "
            + "stage (utf-8, utf-16, windows-1252, latin-1)"
    }

    /// A row whose bytes do not decode.
    static func undecodableRow(
        _ byte: UInt8, column: Int, in layout: TextEncoding.Layout, at location: String
    )
        -> Problem
    {
        Problem(
            location: location,
            reason: undecodable(
                in: layout, at: "byte 0x\(String(byte, radix: 16, uppercase: true)) at column \(column)"))
    }

    /// The next row, or nil at the end of the file.
    package func next() -> (location: String, value: Result<JSONValue, Problem>)? {
        switch source {
        case .lines(let reader):
            while let line = reader.next() {
                if line.allSatisfy(\.isWhitespace) { continue }
                let location = "\(shownPath):\(reader.lineNumber)"
                if let invalid = reader.undecodable {
                    return (
                        location,
                        .failure(
                            Self.undecodableRow(invalid.byte, column: invalid.column, in: reader.layout, at: location))
                    )
                }
                do {
                    return (location, .success(try JSONValue(parsing: line)))
                } catch {
                    return (
                        location,
                        .failure(
                            Problem(
                                location: location, reason: "invalid JSON: \(error.message) at column \(error.column)"))
                    )
                }
            }
            return nil
        case .csv(let records):
            while let record = records.next(columns: header?.count) {
                let location = "\(shownPath):\(records.firstLine)"
                if records.unclosedQuote, header != nil {
                    let reason = "a quote opened on this line never closes; the lines after it are read as rows"
                    return (location, .failure(Problem(location: location, reason: reason)))
                }
                if let invalid = records.undecodable {
                    let place = "\(shownPath):\(invalid.line)"
                    return (
                        place,
                        .failure(
                            Self.undecodableRow(invalid.byte, column: invalid.column, in: records.layout, at: place))
                    )
                }
                guard let columns = header else {
                    header = record
                    continue
                }
                if record == [""] { continue }
                guard record.count == columns.count else {
                    let reason = "expected \(columns.count) columns, found \(record.count)"
                    return (location, .failure(Problem(location: location, reason: reason)))
                }
                return (
                    location, .success(.object(JSONObject(zip(columns, record.map(JSONValue.string)).map { ($0, $1) })))
                )
            }
            return nil
        case .array(let rows, let next):
            guard next < rows.count else { return nil }
            source = .array(rows, next: next + 1)
            return ("\(shownPath)[\(next)]", .success(rows[next]))
        }
    }
}
