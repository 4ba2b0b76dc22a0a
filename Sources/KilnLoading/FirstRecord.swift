import Foundation
import KilnBasics
import KilnModel

/// The first record of a data file, read as `load` reads it (a JSON object per JSONL line, a CSV row keyed by the
/// header, the first element of a JSON array): `validate` checks `fields:` mappings against it.
enum FirstRecord {
    static func of(_ path: String, format: LoadFormat, encoding: TextEncoding) -> JSONValue? {
        switch format {
        case .jsonl, .csv, .json:
            // Only JSON files small enough to read whole for a check: a large one is checked by `run` on its first
            // row.
            if format == .json {
                guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size < 8 << 20
                else { return nil }
            }
            guard let rows = try? DataFileRows(path: path, format: format, shownPath: path, encoding: encoding) else {
                return nil
            }
            if let first = rows.next() { return try? first.value.get() }
            // A CSV file with a header and no rows still names its columns.
            return rows.header.map { .object(JSONObject($0.map { ($0, JSONValue.string("")) })) }
        case .folder, .kiln:
            return nil
        }
    }
}
