import Foundation
import KilnBasics
import KilnModel
import KilnProject

/// Reads a `load` stage's source as a stream of items, with located errors for bad rows.
struct LoadStage: Sendable {
    let stageID: String
    let settings: LoadSettings
    let baseDirectory: String
    /// The pipeline's task id when its task comes from a Kiln project (a `load` of that project may omit task_id).
    var defaultTaskID: String? = nil
    /// The pipeline's name: reading a Kiln task, the runs this pipeline wrote into it are left out.
    var pipelineName: String? = nil

    /// A row that could not be read.
    struct BadRow: Error, Sendable {
        var location: String
        var reason: String
    }

    var path: String {
        let path = settings.path ?? ""
        return path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).path
    }

    /// Calls `emit` for each item in file order; bad rows go to `skipped` when `on_error: skip`, else throw.
    /// Returns how many runs of a Kiln task were left out because this pipeline wrote them.
    @discardableResult
    func read(emit: (PipelineItem) async throws -> Void, skipped: (BadRow) async -> Void) async throws -> Int {
        func item(from row: JSONValue, location: String) throws(BadRow) -> PipelineItem {
            var fields = JSONObject()
            for name in ["input", "output", "expected", "tags", "rating"] {
                let source = settings.fields[name] ?? name
                if let value = JSONPath.lookup(source, in: row) { fields[name] = value }
            }
            if fields["input"] == nil {
                guard settings.fields["input"] == nil else {
                    throw BadRow(
                        location: location, reason: "no field '\(settings.fields["input"] ?? "")' for the input")
                }
                fields["input"] = row
            }
            // An empty input is a bad row, never a call: a model asked about nothing still costs money.
            if let input = fields["input"], input == .null || input.stringValue?.allSatisfy(\.isWhitespace) == true {
                throw BadRow(
                    location: location,
                    reason:
                        "the input ('\(settings.fields["input"] ?? "input")') is \(input == .null ? "null" : "empty")")
            }
            // Identity is the row's content: identical rows are one item identity (so a split never puts a row in
            // train and its twin in test), and no table of seen rows grows with the file.
            let userID = (settings.fields["id"].flatMap { JSONPath.lookup($0, in: row) } ?? row["id"])
                .map { $0.stringValue ?? $0.serialized() }
            // Without an id of the user's, reports name the item by where it was read (`golden.jsonl:12`).
            if userID == nil { fields["source_row"] = .string(location) }
            // The row's own checks and judging criteria travel with it to the judge.
            do {
                let checks = try RowAssertions.read(row, field: settings.fields["assert"] ?? "assert")
                if !checks.isEmpty { fields["assert"] = .array(checks) }
            } catch {
                throw BadRow(location: location, reason: error.description)
            }
            if let rubric = JSONPath.lookup(settings.fields["rubric"] ?? "rubric", in: row)?.stringValue,
                !rubric.allSatisfy(\.isWhitespace)
            {
                fields["rubric"] = .string(rubric)
            }
            let id = userID ?? String(SHA256.hex(row.serialized(sortedKeys: true)).prefix(16))
            return PipelineItem(id: id, fields: fields)
        }
        // The first row shows whether every `fields:` mapping names a column the data has: a misspelled one is an
        // error before any item goes on (so before any call), never rows silently without the field.
        var checkedColumns = settings.fields.isEmpty
        func handle(_ row: () throws -> JSONValue, location: String) async throws {
            do {
                let value = try row()
                if !checkedColumns {
                    checkedColumns = true
                    if let (field, column) = settings.unmappedFields(in: value).first {
                        let (message, hint) = LoadSettings.unmappedMessage(
                            field: field, column: column, file: settings.path ?? path, row: value)
                        throw RunSetupError("stage '\(stageID)': \(message)", hint: hint)
                    }
                }
                try await emit(try item(from: value, location: location))
            } catch let error as BadRow {
                guard settings.onError == .skip else { throw error }
                await skipped(error)
            } catch let error as JSONParseError {
                let bad = BadRow(location: location, reason: "invalid JSON: \(error.message) at column \(error.column)")
                guard settings.onError == .skip else { throw bad }
                await skipped(bad)
            }
        }
        var count = 0
        func reachedLimit() -> Bool {
            count += 1
            return settings.limit.map { count > $0 } ?? false
        }
        switch settings.format {
        case .jsonl, .json, .csv:
            let rows: DataFileRows
            do {
                rows = try DataFileRows(
                    path: path, format: settings.format, shownPath: settings.path ?? path, encoding: settings.encoding)
            } catch let problem as DataFileRows.Problem {
                throw BadRow(location: problem.location, reason: problem.reason)
            }
            while let row = rows.next() {
                if reachedLimit() { break }
                try await handle(
                    {
                        switch row.value {
                        case .success(let value): return value
                        case .failure(let problem): throw BadRow(location: problem.location, reason: problem.reason)
                        }
                    }, location: row.location)
            }
        case .folder:
            let files = GlobMatcher.files(matching: path, base: baseDirectory)
            for file in files {
                if reachedLimit() { break }
                let relative = String(file.dropFirst(path.count + 1))
                try await handle(
                    {
                        guard let bytes = FileManager.default.contents(atPath: file) else {
                            throw BadRow(location: relative, reason: "cannot be read")
                        }
                        let decoded = settings.encoding.decode([UInt8](bytes))
                        guard let text = decoded.text else {
                            let place = "offset \(decoded.badOffset)"
                            throw BadRow(
                                location: relative, reason: DataFileRows.undecodable(in: decoded.layout, at: place))
                        }
                        return .object(JSONObject([("id", .string(relative)), ("input", .string(text))]))
                    }, location: relative)
            }
        case .kiln:
            let project = settings.kilnProject ?? ""
            let projectFile =
                project.hasPrefix("/")
                ? project : URL(fileURLWithPath: baseDirectory).appendingPathComponent(project).path
            guard let taskID = settings.taskID ?? defaultTaskID else {
                throw RunSetupError("stage '\(stageID)' needs task_id to read a Kiln project")
            }
            let task: KilnTaskFolder
            do {
                task = try KilnProjectFolder(projectFile: projectFile, displayPath: project).task(id: taskID)
            } catch {
                throw RunSetupError("stage '\(stageID)': \(error.message)", hint: error.hint, cause: error)
            }
            var count = 0
            return try await KilnRunsReader(task: task, filter: settings.filter, pipeline: pipelineName).read(
                emit: { item in
                    count += 1
                    if settings.limit.map({ count > $0 }) ?? false { return }
                    try await emit(item)
                }, unreadable: { location, reason in await skipped(BadRow(location: location, reason: reason)) })
        }
        return 0
    }
}

extension LoadStage: Stage {
    /// Streams the rows into the stage's consumers (a shard keeps its share); a bad row stops the run unless
    /// `on_error: skip`.
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        let shard = run.options.shard
        do {
            // Under on_error: fail every row is read once before the first goes on (streaming, no calls): a bad row
            // at line 50 stops the run before anything is paid for, never after 49 answers.
            if settings.onError == .fail, settings.format != .kiln {
                try await read(emit: { _ in }, skipped: { _ in })
            }
            let own = try await read(
                emit: { item in
                    if let shard, !shard.contains(item.id) {
                        report.otherShards += 1
                        return
                    }
                    try await emit(item)
                    report.items += 1
                    if report.items % 256 == 0 { await run.publish(report) }
                },
                skipped: { bad in
                    report.skip("\(bad.location): \(bad.reason) (skipped)")
                })
            if own > 0 {
                report.note(
                    "left out \(counted(own, "run")) this pipeline wrote into the Kiln task itself (its own results "
                        + "are not read back as its input)")
            }
        } catch let bad as BadRow {
            throw RunSetupError(
                "\(bad.location): \(bad.reason)",
                hint: "fix the row, or add on_error: skip to stage '\(run.id)' to skip and report bad rows")
        }
        report.noteShare(of: shard, unit: "rows")
        // Rows read from the source: computed in every run, never "cached" (nothing was in the store).
        report.computed = report.items
        return nil
    }
}
