import Foundation
import KilnBasics
import KilnModel

/// The first record of a data file, read as `load` reads it (a JSON object per JSONL line, a CSV row keyed by the
/// header, the first element of a JSON array): `validate` checks `fields:` mappings against it.
enum FirstRecord {
    static func of(_ path: String, format: LoadFormat) -> JSONValue? {
        switch format {
        case .jsonl:
            guard let lines = try? LineReader(path: path) else { return nil }
            while let line = lines.next() {
                if line.allSatisfy(\.isWhitespace) { continue }
                return try? JSONValue(parsing: line)
            }
            return nil
        case .csv:
            guard let records = try? CSVRecords(path: path), let header = records.next() else { return nil }
            let row = records.next() ?? header.map { _ in "" }
            return .object(JSONObject(zip(header, row.map(JSONValue.string)).map { ($0, $1) }))
        case .json:
            // Only files small enough to read for a check: a large one is checked by `run` on its first row.
            guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size < 8 << 20,
                let text = try? String(contentsOfFile: path, encoding: .utf8)
            else { return nil }
            return (try? JSONValue(parsing: text))?.arrayValue?.first
        case .folder, .kiln:
            return nil
        }
    }
}
