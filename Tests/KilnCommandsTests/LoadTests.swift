import Foundation
import KilnBasics
import Testing

/// `load` end to end: every format, bad rows located, skipped rows counted and reported.
@Suite struct Loading {
    static func scenario(_ files: [String: String], stage: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("docs"), withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try "version: 1\nname: scenario\nstages:\n  - \(stage)\n".write(
            to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        return directory
    }

    static func lines(_ directory: URL, _ stage: String = "data") -> [String] {
        let text =
            (try? String(
                contentsOf: directory.appendingPathComponent(".kiln-pipe/out/scenario/\(stage).jsonl"),
                encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// A misspelled column is an error naming it and the columns the file has, from `validate` and from `run`
    /// (before anything runs), never rows loaded without the field.
    @Test(arguments: ["validate", "run"])
    func aMappingToAColumnTheFileLacksIsNamed(command: String) throws {
        let directory = try Self.scenario(
            ["rows.jsonl": "{\"q\": \"a\", \"reference\": \"r\"}\n"],
            stage: "{id: data, type: load, path: rows.jsonl, fields: {input: q, expected: referense}}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run([command, "p.yml"], in: directory)
        #expect(outcome.status == 2)
        // `validate` reports on standard output, `run` on standard error.
        #expect(
            (outcome.stdout + outcome.stderr).contains(
                "fields: expected maps to column 'referense', which rows.jsonl does not have "
                    + "(did you mean 'reference'?)"),
            "\(outcome.stdout)\(outcome.stderr)")
        #expect(Self.lines(directory).isEmpty)
    }

    @Test func aMalformedJSONLRowStopsTheRunAtItsLine() throws {
        let directory = try Self.scenario(
            ["rows.jsonl": "{\"q\": \"a\"}\n\n{\"q\": \"b\"\n{\"q\": \"c\"}\n"],
            stage: "{id: data, type: load, path: rows.jsonl, fields: {input: q}}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet"], in: directory)
        #expect(outcome.status == 2)
        #expect(
            outcome.stderr.contains(
                "stopped: stage 'data': rows.jsonl:3: invalid JSON: unexpected end of JSON, expected '}' at column 10 "
                    + "(fix the row, or add on_error: skip to stage 'data' to skip and report bad rows)"
            ),
            "\(outcome.stderr)")
    }

    /// Stages after the load, answered by the in-process fake model; `exportTo` adds an export of the answers.
    static func withAnswers(_ load: String, exportTo out: String? = nil) -> String {
        load + "\n  - {id: answers, type: outputs, from: data, models: [m]}"
            + (out.map { "\n  - {id: files, type: export, from: answers, target: vertex, out: \($0)}" } ?? "")
            + "\nproviders:\n  m: {kind: fake, model: fake-1}\ntask:\n  instruction: Answer briefly."
    }

    static func stageStatus(_ directory: URL) throws -> [String: JSONValue] {
        let status = try KilnPipeBinary.run(["status", "p.yml", "--json"], in: directory)
        let stages = try JSONValue(parsing: status.stdout)["stages"]?.arrayValue ?? []
        return Dictionary(uniqueKeysWithValues: stages.map { ($0["id"]?.stringValue ?? "", $0) })
    }

    /// Under on_error: fail the whole file is read before the first row goes on: a bad row 2500 stops the run
    /// before any call (before: every row that fit through the stages' queues was answered and paid for first).
    @Test func onErrorFailFindsABadRowBeforeAnyCallIsPaidFor() throws {
        var rows = (1...3000).map { "{\"q\": \"question \($0)\"}" }
        rows[2499] = "{\"q\": \"question 2500\""
        let directory = try Self.scenario(
            ["rows.jsonl": rows.joined(separator: "\n") + "\n"],
            stage: Self.withAnswers("{id: data, type: load, path: rows.jsonl, fields: {input: q}}"))
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet"], in: directory)
        #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.contains("stopped: stage 'data': rows.jsonl:2500: invalid JSON"), "\(outcome.stderr)")
        let stages = try Self.stageStatus(directory)
        #expect(stages["answers"]?["done"] == .integer(0))
        #expect(stages["answers"]?["output_tokens"] == .integer(0))
        #expect(stages["answers"]?["stopped_by"]?.stringValue?.hasPrefix("stage 'data': rows.jsonl:2500") == true)
    }

    /// A stage that fails after answers were paid for (an export refusing to replace a file it did not write)
    /// stops the run with its summary and `status` lines: the answers are saved and shown, and a rerun after the
    /// fix pays for none of them again.
    @Test func aStageFailingAfterPaidAnswersKeepsThemAndSaysSo() throws {
        let rows = (1...20).map { "{\"q\": \"question \($0)\"}" }.joined(separator: "\n") + "\n"
        let directory = try Self.scenario(
            ["rows.jsonl": rows, "mine.jsonl": "my own file\n"],
            stage: Self.withAnswers(
                "{id: data, type: load, path: rows.jsonl, fields: {input: q}}", exportTo: "mine.jsonl"))
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(outcome.status == 2, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.contains("stopped: stage 'files':"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("mine.jsonl exists and was not written by kiln-pipe"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("finished work is saved in"), "\(outcome.stderr)")
        // The calls already in flight when it failed finished (none started after): each is in the summary,
        // in `status`, and cached on the rerun.
        let answered = try #require(Self.summaryRow("answers", in: outcome.stdout)).computed
        #expect(answered > 0, "\(outcome.stdout)")
        #expect(try Self.stageStatus(directory)["answers"]?["done"] == .integer(answered))
        #expect(
            try String(contentsOf: directory.appendingPathComponent("mine.jsonl"), encoding: .utf8) == "my own file\n")

        try FileManager.default.removeItem(at: directory.appendingPathComponent("mine.jsonl"))
        let rerun = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        let again = try #require(Self.summaryRow("answers", in: rerun.stdout))
        #expect(again.cached == answered && again.computed == 20 - answered, "\(rerun.stdout)")
    }

    /// The cached and computed counts of a stage's row in a run's summary table.
    static func summaryRow(_ stage: String, in stdout: String) -> (cached: Int, computed: Int)? {
        let line = stdout.split(separator: "\n").first { $0.hasPrefix(stage + " ") }
        let columns = line?.split(separator: " ").compactMap { Int($0) } ?? []
        return columns.count >= 3 ? (columns[1], columns[2]) : nil
    }

    @Test func skippedRowsAreCountedAndReportedNeverSilentlyDropped() throws {
        let directory = try Self.scenario(
            ["rows.jsonl": "{\"q\": \"a\"}\nnot json\n{\"q\": \"b\"}\n{\"other\": 1}\n"],
            stage: "{id: data, type: load, path: rows.jsonl, fields: {input: q}, on_error: skip}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet"], in: directory)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(Self.lines(directory).count == 2)
        #expect(outcome.stdout.contains("data: 2 skipped; the first ones:"))
        #expect(
            outcome.stdout.contains(
                "rows.jsonl:2: invalid JSON: invalid literal, expected 'null' at column 1 (skipped)"))
        #expect(outcome.stdout.contains("rows.jsonl:4: no field 'q' for the input (skipped)"))
    }

    /// Every skipped row is listed with its reason by `status --json` (the run and `status` show the first ones and
    /// say where the rest are), not only the first five.
    @Test func everySkippedRowIsListedWithItsReason() throws {
        let rows = (1...30).map { $0 % 2 == 0 ? "{\"q\": \"\($0)\"}" : "broken \($0)" }.joined(separator: "\n")
        let directory = try Self.scenario(
            ["rows.jsonl": rows + "\n"],
            stage: "{id: data, type: load, path: rows.jsonl, fields: {input: q}, on_error: skip}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("data: 15 skipped; the first ones:"), "\(run.stdout)")
        #expect(run.stdout.contains("… and 10 more: `kiln-pipe status p.yml --json` lists every one"), "\(run.stdout)")
        let status = try KilnPipeBinary.run(["status", "p.yml", "--json"], in: directory)
        let errors = try JSONValue(parsing: status.stdout)["stages"]?.arrayValue?.first?["errors"]?.arrayValue ?? []
        #expect(errors.count == 15, "\(status.stdout)")
        #expect(errors.last?.stringValue?.hasPrefix("rows.jsonl:29: invalid JSON") == true, "\(errors)")
        let text = try KilnPipeBinary.run(["status", "p.yml"], in: directory)
        #expect(text.stdout.contains("data: … and 5 more: `kiln-pipe status p.yml --json` lists every one"))
    }

    /// A byte-order mark is not data (JSONL row 1 parses, the first CSV column keeps its name); bytes that are not
    /// UTF-8 are a bad row with its column, never U+FFFD in a prompt; a null or empty input is a bad row, not a call.
    @Test func bomsInvalidUTF8AndEmptyInputsAreHandledOnPurpose() throws {
        let directory = try Self.scenario(
            [:], stage: "{id: data, type: load, path: rows.jsonl, fields: {input: q}, on_error: skip}")
        defer { try? FileManager.default.removeItem(at: directory) }
        var jsonl = Data([0xEF, 0xBB, 0xBF])
        jsonl += Data("{\"q\": \"first\"}\n{\"q\": \"caf".utf8) + Data([0xE9]) + Data("\"}\n".utf8)
        jsonl += Data("{\"q\": null}\n{\"q\": \"  \"}\n{\"q\": \"last\"}\n".utf8)
        try jsonl.write(to: directory.appendingPathComponent("rows.jsonl"))
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let inputs = Self.lines(directory).compactMap {
            (try? JSONValue(parsing: $0))?["input"]?.stringValue
        }
        #expect(inputs == ["first", "last"])
        for reason in [
            "rows.jsonl:2: not UTF-8 (byte 0xE9 at column 11); save the file as UTF-8, or name its encoding with "
                + "`encoding:` on the load stage (utf-8, utf-16, windows-1252, latin-1) (skipped)",
            "rows.jsonl:3: the input ('q') is null (skipped)", "rows.jsonl:4: the input ('q') is empty (skipped)",
        ] {
            #expect(run.stdout.contains(reason), "\(reason): \(run.stdout)")
        }
        var csv = Data([0xEF, 0xBB, 0xBF])
        csv += Data("question,answer\nWhere is it?,Here\n".utf8)
        try csv.write(to: directory.appendingPathComponent("golden.csv"))
        let pipeline =
            "version: 1\nname: scenario\nstages:\n"
            + "  - {id: data, type: load, path: golden.csv, fields: {input: question}}\n"
        try pipeline.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let csvRun = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(csvRun.status == 0, "the BOM does not rename 'question': \(csvRun.stdout)\(csvRun.stderr)")
    }

    /// What Excel and Windows tools write: UTF-16 with a byte-order mark (either byte order, CRLF line ends, a
    /// character whose low byte is a line feed), and Windows-1252 read on purpose with `encoding:`.
    @Test(arguments: [
        ("utf-16le.csv", "auto", [0xFF, 0xFE] as [UInt8], String.Encoding.utf16LittleEndian),
        ("utf-16be.csv", "auto", [0xFE, 0xFF], .utf16BigEndian),
        ("no-mark.csv", "utf-16", [], .utf16LittleEndian),
        ("cp1252.csv", "windows-1252", [], .windowsCP1252),
    ])
    func encodedFilesLoadByTheirMarkOrByName(
        _ name: String, _ encoding: String, _ mark: [UInt8], _ written: String.Encoding
    ) throws {
        let text = "question,answer\r\n\"Café, \u{201C}ok\u{201D}?\",Yes\r\nWhere is Ċ?,\"two\r\nlines\"\r\n"
        let csv = written == .windowsCP1252 ? text.replacingOccurrences(of: "Ċ", with: "C") : text
        let directory = try Self.scenario(
            [:],
            stage: "{id: data, type: load, path: \(name), fields: {input: question, expected: answer}, "
                + "encoding: \(encoding)}")
        defer { try? FileManager.default.removeItem(at: directory) }
        try (Data(mark) + csv.data(using: written)!).write(to: directory.appendingPathComponent(name))
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let rows = Self.lines(directory).compactMap { try? JSONValue(parsing: $0) }
        let second = written == .windowsCP1252 ? "Where is C?" : "Where is Ċ?"
        #expect(rows.map { $0["input"]?.stringValue } == ["Café, “ok”?", second])
        #expect(rows.map { $0["expected"]?.stringValue } == ["Yes", "two\nlines"])
    }

    /// A quote that never closes is one bad row at the line it opened on — not the rest of the file swallowed into
    /// one field (before: 69 of 100 rows lost, "1 skipped"); a stray quote further down is a second bad row.
    @Test(arguments: [([6], 99), ([6, 50], 98)])
    func anUnclosedQuoteIsOneBadRowNotTheRestOfTheFile(_ broken: [Int], _ loaded: Int) throws {
        var lines = ["question,answer"]
        for row in 1...100 {
            let line = row + 1
            lines.append(
                broken.contains(line) ? "\"Where is order \(row)?,day \(row)" : "Where is order \(row)?,day \(row)")
        }
        let directory = try Self.scenario(
            ["golden.csv": lines.joined(separator: "\n") + "\n"],
            stage: "{id: data, type: load, path: golden.csv, fields: {input: question}, on_error: skip}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(Self.lines(directory).count == loaded, "\(run.stdout)")
        for line in broken {
            #expect(
                run.stdout.contains("golden.csv:\(line): a quote opened on this line never closes"), "\(run.stdout)")
        }
    }

    @Test func csvWithQuotedCommasNewlinesAndABadRow() throws {
        let csv =
            "question,answer\n\"Hello, world\",\"line one\nline two\"\n\"He said \"\"hi\"\"\",ok\nonly-one-column\n"
        let directory = try Self.scenario(
            ["golden.csv": csv],
            stage:
                "{id: data, type: load, path: golden.csv, fields: {input: question, expected: answer}, on_error: skip}")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet"], in: directory)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let rows = Self.lines(directory)
        #expect(rows.count == 2)
        #expect(rows.first?.contains(#""input":"Hello, world","expected":"line one\nline two""#) == true, "\(rows)")
        #expect(rows.last?.contains(#""input":"He said \"hi\"""#) == true)
        #expect(outcome.stdout.contains("golden.csv:5: expected 2 columns, found 1 (skipped)"))
    }

    @Test func jsonArraysFoldersAndJSONPathFields() throws {
        let directory = try Self.scenario(
            [
                "rows.json":
                    #"[{"id": "x1", "msg": {"text": "nested"}, "labels": ["a"]}, {"id": "x2", "msg": {"text": "#
                    + #""two"}}]"#,
                "docs/a.md": "# A", "docs/b.txt": "B",
            ],
            stage:
                "{id: data, type: load, path: rows.json, fields: {input: msg.text, tags: labels}}\n  - {id: "
                + "files, type: load, path: docs}"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet"], in: directory)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(
            Self.lines(directory) == [#"{"id":"x1","input":"nested","tags":["a"]}"#, #"{"id":"x2","input":"two"}"#])
        #expect(Self.lines(directory, "files") == [##"{"id":"a.md","input":"# A"}"##, #"{"id":"b.txt","input":"B"}"#])
    }
}
