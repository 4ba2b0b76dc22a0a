import Foundation
import Testing

/// `export: kiln_project:` writes task runs and a dataset split into a Kiln project folder in Kiln's layout and
/// JSON conventions; kiln-ai itself (when `make test` installed it) loads them without a validation error.
@Suite struct KilnProjectWriting {
    static let projectFile = """
        {
          "v": 1,
          "id": "102119831263",
          "created_at": "2026-11-23T13:35:47.833824Z",
          "created_by": "someone",
          "name": "Bookshop",
          "description": null,
          "model_type": "project"
        }
        """

    static let pipeline = """
        version: 1
        name: kw
        providers:
          gen: {kind: fake, model: fake-gen}
          judge: {kind: fake, model: fake-judge}
        task:
          name: Support reply
          instruction: Reply to the customer.
          thinking_instruction: Think first.
          requirements:
            - {name: polite, instruction: Be polite., type: pass_fail}
          output_schema: {type: object, properties: {reply: {type: string}}, required: [reply]}
        stages:
          - {id: rows, type: load, path: rows.jsonl}
          - {id: answers, type: outputs, from: rows, models: [gen]}
          - {id: judged, type: judge, from: answers, provider: judge, assertions: [{type: json_schema_valid}]}
          - {id: split, type: split, from: judged, preset: train_test}
          - {id: kiln, type: export, from: split, kiln_project: proj/project.kiln}
        """

    static func files(under folder: URL) -> [String: String] {
        var files: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: folder.path)
        while let relative = walker?.nextObject() as? String {
            let path = folder.appendingPathComponent(relative).path
            var directory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &directory), !directory.boolValue {
                files[relative] = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            }
        }
        return files
    }

    @Test func runsAndTheSplitLandInKilnsLayoutAndKilnLoadsThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiln-project-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("proj"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.projectFile.write(
            to: directory.appendingPathComponent("proj/project.kiln"), atomically: true, encoding: .utf8)
        try (1...10).map { #"{"input": "Where is order \#($0)? «é» \n next line"}"# }.joined(separator: "\n")
            .write(to: directory.appendingPathComponent("rows.jsonl"), atomically: true, encoding: .utf8)
        try Self.pipeline.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)

        let first = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("wrote 10 task runs and 10 eval runs to"), "\(first.stdout)")
        let project = directory.appendingPathComponent("proj")
        let files = Self.files(under: project)
        let runs = files.keys.filter { $0.hasSuffix("/task_run.kiln") }
        #expect(runs.count == 10)
        // tasks/<12-digit id> - <name>/runs/<12-digit id>/task_run.kiln, and one dataset split.
        #expect(
            runs.allSatisfy { $0.wholeMatch(of: /tasks\/\d{12} - Support reply\/runs\/\d{12}\/task_run\.kiln/) != nil },
            "\(runs)")
        #expect(files.keys.contains { $0.wholeMatch(of: /tasks\/\d{12} - Support reply\/task\.kiln/) != nil })
        let split = try #require(
            files.first {
                $0.key.wholeMatch(
                    of: /tasks\/\d{12} - Support reply\/dataset_splits\/\d{12} - kw kiln\/dataset_split\.kiln/) != nil
            })
        #expect(split.value.contains(#""percentage": 0.8"#) && split.value.contains(#""filter": "all""#))
        // The judge stage's results: an eval with its judge config, one eval run per judged run, and the run
        // config of the model that was judged.
        let evalRuns = files.keys.filter {
            $0.wholeMatch(
                of:
                    #/
                    tasks \/ \d{12} \x20 - \x20 Support \x20 reply \/ evals \/ \d{12} \x20 - \x20 judged
                    \/ configs \/ \d{12} \x20 - \x20 judge \x20 fake-judge \/ runs \/ \d{12} \/ eval_run \. kiln
                    /#
            ) != nil
        }
        #expect(evalRuns.count == 10, "\(files.keys.sorted())")
        #expect(files.keys.contains { $0.hasSuffix(" - gen/task_run_config.kiln") })
        // Kiln's JSON conventions: two-space indent, v / id / created_at / created_by first, model_type last, no
        // trailing newline, non-ASCII raw.
        let run = try #require(runs.first.flatMap { files[$0] })
        #expect(run.hasPrefix("{\n  \"v\": 1,\n  \"id\": \""))
        #expect(run.hasSuffix("\n  \"model_type\": \"task_run\"\n}"))
        #expect(run.contains(#""adapter_name": "kiln-pipe""#) && run.contains(#""chain_of_thought": "#))
        #expect(run.contains("«é»"))

        // Writing again updates the same files: no duplicate runs, same bytes (creation stamps kept).
        let again = try KilnPipeBinary.run(["run", "p.yml", "--fresh-stage", "kiln"], in: directory)
        #expect(again.status == 0)
        #expect(Self.files(under: project) == files)

        // kiln-pipe reads back what it wrote: the split exports from the project folder.
        let taskID = try #require(runs.first?.split(separator: "/")[1].prefix(12))
        let exported = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "proj/project.kiln", "--task", String(taskID), "--split", "kw kiln",
                "--part", "train",
                "--format", "openai_chat_json_schema_jsonl", "--out", "train.jsonl",
            ], in: directory)
        #expect(exported.status == 0, "\(exported.stdout)\(exported.stderr)")
        let lines = try String(contentsOf: directory.appendingPathComponent("train.jsonl"), encoding: .utf8).split(
            separator: "\n")
        #expect(!lines.isEmpty && lines.count < 10)

        // The reference reader: kiln-ai 1.2.0's own data model.
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let check = try KilnPipeBinary.run(
            [
                KilnPipeBinary.repositoryRoot.appendingPathComponent(
                    "Tests/KilnCommandsTests/Support/kiln_reference_check.py"
                ).path,
                project.appendingPathComponent("project.kiln").path,
            ],
            in: directory, executable: URL(fileURLWithPath: python))
        #expect(check.status == 0, "\(check.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        let task = try #require((summary["tasks"] as? [[String: Any]])?.first)
        #expect(task["runs"] as? Int == 10)
        #expect(task["requirements"] as? [String] == ["polite"])
        #expect(task["sources"] as? [String] == ["kiln-pipe"])
        let splits = try #require(task["splits"] as? [[String: Any]])
        #expect(splits.count == 1)
        #expect((splits.first?["missing"] as? [String])?.isEmpty == true)
        #expect((splits.first?["contents"] as? [String: Int]).map { $0.values.reduce(0, +) } == 10)
        let evals = try #require(task["evals"] as? [[String: Any]])
        #expect(evals.count == 1)
        #expect(evals.first?["runs"] as? Int == 10)
        #expect(evals.first?["scores"] as? [String] == ["json_schema_valid", "overall", "polite"])
        #expect((evals.first?["dangling"] as? [String])?.isEmpty == true)
        #expect(task["run_configs"] as? Int == 1)
    }
}
