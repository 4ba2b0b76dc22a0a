import Foundation
import KilnBasics
import KilnStages
package import KilnStore

/// A portable record of a run: one JSON line per unit of work its outputs depend on (the validated result and
/// the provider calls it came from, request and response; never a key: keys travel in headers, never in bodies).
/// Imported into an empty store, it lets `run --offline` rebuild the same outputs on a machine with no key.
package enum Cassette {
    /// Writes records sorted by stage order, then key: the same records always give the same bytes.
    package static func write(_ records: [CheckpointRecord], stageOrder: [String], to path: String) throws {
        let rank = Dictionary(uniqueKeysWithValues: stageOrder.enumerated().map { ($1, $0) })
        let sorted = records.sorted {
            let (left, right) = (rank[$0.stage] ?? Int.max, rank[$1.stage] ?? Int.max)
            return left != right ? left < right : $0.key < $1.key
        }
        try Folder.create(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let writer = try JSONLinesWriter(path: path)
        // Key order kept as stored: items are replayed byte for byte, and their order is part of their bytes.
        for record in sorted { try writer.write(line: record.json.serialized()) }
        try writer.close()
    }

    /// Reads a cassette; a line that is not a record is an error naming the line.
    package static func read(_ path: String) throws -> [CheckpointRecord] {
        let reader: LineReader
        do {
            reader = try LineReader(path: path)
        } catch {
            throw ActionableError("cannot read the cassette \(path)", hint: "check the path given to --cassette")
        }
        var records: [CheckpointRecord] = []
        var number = 0
        while let line = reader.next() {
            number += 1
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let value = try? JSONValue(parsing: line), let record = CheckpointRecord(json: value) else {
                throw ActionableError(
                    "\(path):\(number): not a cassette record",
                    hint: "cassettes are written by `kiln-pipe freeze`; do not edit them")
            }
            records.append(record)
        }
        return records
    }

    /// Adds a cassette's records to a store, keeping what the store already has.
    package static func load(_ path: String, into store: any CheckpointStore) async throws -> Int {
        let records = try read(path)
        let present = try await store.records(forKeys: records.map(\.key))
        let missing = records.filter { present[$0.key] == nil }
        try await store.write(missing)
        return missing.count
    }
}
