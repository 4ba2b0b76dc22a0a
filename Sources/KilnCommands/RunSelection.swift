import Foundation
import KilnBasics
import KilnReports
import KilnRunner
import KilnStore

/// Which run a user means in `compare`, `--baseline` and `view`: a run id or its unique start (`20261206-16`),
/// `last`, `last~N` (N runs before the last), or the path of a summary.json (a committed baseline).
enum RunSelection {
    /// The side to compare: a summary.json file, or a recorded run (items without texts).
    static func side(
        _ spec: String, runs: [RunRecord], store: any CheckpointStore
    ) async throws -> RunSide {
        if FileManager.default.fileExists(atPath: spec) { return try RunSide(summaryFile: spec) }
        return try await RunHistory.side(of: run(spec, in: runs), in: store)
    }

    static func run(_ spec: String, in runs: [RunRecord]) throws -> RunRecord {
        let recent = runs.suffix(5).reversed().map(\.id)
        let listing = recent.isEmpty ? "no run is recorded yet" : "the latest are " + recent.joined(separator: ", ")
        if spec == "last" || spec.hasPrefix("last~") {
            let back = spec == "last" ? 0 : Int(spec.dropFirst("last~".count))
            guard let back, back >= 0 else {
                throw ActionableError("cannot read the run '\(spec)'", hint: "write last, or last~N for N runs earlier")
            }
            guard back < runs.count else {
                throw ActionableError(
                    "there is no run '\(spec)': the pipeline has \(counted(runs.count, "recorded run"))",
                    hint: "run it (kiln-pipe run) to record one; \(listing)")
            }
            return runs[runs.count - 1 - back]
        }
        let matches = runs.filter { $0.id.hasPrefix(spec) }
        guard matches.count == 1, let match = matches.first else {
            throw ActionableError(
                matches.isEmpty
                    ? "no run '\(spec)' is recorded for this pipeline, and no file has that path"
                    : "'\(spec)' names \(matches.count) runs", hint: "give a run id from kiln-pipe runs; \(listing)")
        }
        return match
    }
}
