import Foundation
import Testing

/// `load` from a Kiln project: the task's leaf runs, Kiln's filters, repaired outputs first.
@Suite struct KilnProjectLoading {
    static func run(
        _ id: String, rating: (String, Double)? = nil, tags: [String] = [], repaired: Bool = false,
        reasoning: String? = nil, parent: String? = nil, evalSource: Bool = false
    ) -> String {
        let ratingJSON =
            rating.map { #"{"v": 1, "value": \#($0.1), "type": "\#($0.0)", "requirement_ratings": {}}"# } ?? "null"
        let repairedJSON = repaired ? #"{"v": 1, "output": "repaired \#(id)", "source": null, "rating": null}"# : "null"
        let intermediate = reasoning.map { #"{"reasoning": "\#($0)"}"# } ?? "null"
        return """
            {"v": 1, "id": "\(id)", "input": "question \(id)", "input_source": null,
             "output": {"v": 1, "output": "answer \(id)", "source": null, "rating": \(ratingJSON)},
             "repair_instructions": \(repaired ? "\"be kinder\"" : "null"), "repaired_output": \(repairedJSON),
             "intermediate_outputs": \(intermediate), "tags": [\(tags.map { "\"\($0)\"" }.joined(separator: ", "))],
             "parent_task_run_id": \(parent.map { "\"\($0)\"" } ?? "null"), "eval_source": \
             \(evalSource ? "{}" : "null"),
             "model_type": "task_run"}
            """
    }

    static func project() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-project-\(UUID().uuidString)")
        let task = root.appendingPathComponent("project/tasks/100000000001 - Support")
        try FileManager.default.createDirectory(at: task, withIntermediateDirectories: true)
        try #"{"v": 1, "id": "900000000001", "name": "Bookshop", "model_type": "project"}"#.write(
            to: root.appendingPathComponent("project/project.kiln"), atomically: true, encoding: .utf8)
        try
            (#"{"v": 1, "id": "100000000001", "name": "Support", "instruction": "Answer.", "requirements": [], "#
            + #""model_type": "task"}"#)
            .write(
                to: task.appendingPathComponent("task.kiln"), atomically: true, encoding: .utf8)
        let runs: [(String, String)] = [
            ("r1", run("r1", rating: ("five_star", 5), tags: ["golden"])),
            ("r2", run("r2", rating: ("five_star", 3), tags: ["golden"], reasoning: "because")),
            ("r3", run("r3", rating: ("pass_fail", 1))),
            ("r4", run("r4", repaired: true)),
            ("r5", run("r5", rating: ("five_star", 5), parent: "r1x")),
            ("r1x", run("r1x", rating: ("five_star", 5))),
            ("r6", run("r6", rating: ("five_star", 5), evalSource: true)),
            ("r7", "{ not json"),
        ]
        for (id, text) in runs {
            let folder = task.appendingPathComponent("runs/\(id)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try text.write(to: folder.appendingPathComponent("task_run.kiln"), atomically: true, encoding: .utf8)
        }
        return root
    }

    static func load(filter: String, in root: URL) throws -> (KilnPipeBinary.Outcome, [String]) {
        try """
        version: 1
        name: scenario
        stages:
          - {id: runs, type: load, kiln_project: project/project.kiln, task_id: "100000000001", filter: \
          "\(filter)", on_error: skip}
        """.write(to: root.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let outcome = try KilnPipeBinary.run(["run", "p.yml", "--quiet", "--fresh"], in: root)
        let text =
            (try? String(
                contentsOf: root.appendingPathComponent(".kiln-pipe/out/scenario/runs.jsonl"), encoding: .utf8)) ?? ""
        let ids = text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        return (outcome, ids)
    }

    @Test(arguments: [
        ("all", ["r1", "r2", "r3", "r4", "r5"]),
        ("high_rating", ["r1", "r3", "r4", "r5"]),
        ("tag::golden", ["r1", "r2"]),
        ("thinking_model", ["r2"]),
        ("multi_filter::high_rating&tag::golden", ["r1"]),
    ])
    func readsLeafRunsThroughKilnsFilters(filter: String, expected: [String]) throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        let (outcome, ids) = try Self.load(filter: filter, in: root)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(ids == expected, "r1x is a parent, r6 came from an eval, r7 is unreadable")
        #expect(outcome.stdout.contains("runs/r7/task_run.kiln"), "the unreadable run is reported")
    }

    @Test func theRepairedOutputWinsAndRatingsTagsAndReasoningComeAlong() throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try Self.load(filter: "all", in: root)
        let text = try String(
            contentsOf: root.appendingPathComponent(".kiln-pipe/out/scenario/runs.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.contains(#""id":"r4""#) && $0.contains(#""output":"repaired r4""#)
                    && $0.contains(#""repaired":true"#)
            })
        #expect(
            lines.contains {
                $0.contains(#""id":"r2""#) && $0.contains(#""rating":3.0"#) && $0.contains(#""tags":["golden"]"#)
                    && $0.contains(#""reasoning":"because""#)
            })
    }
}

/// `kiln-pipe export` straight from a Kiln project's dataset split.
@Suite struct KilnSplitExporting {
    static func projectWithSplit() throws -> URL {
        let root = try KilnProjectLoading.project()
        let folder = root.appendingPathComponent(
            "project/tasks/100000000001 - Support/dataset_splits/700000000001 - Nov split")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        {"v": 1, "id": "700000000001", "name": "Nov split", "description": null,
         "splits": [{"name": "train", "description": null, "percentage": 0.5}, {"name": "test", "description": \
         null, "percentage": 0.5}],
         "split_contents": {"train": ["r3", "r4"], "test": ["r1", "missing"]}, "filter": "all", "model_type": \
         "dataset_split"}
        """.write(to: folder.appendingPathComponent("dataset_split.kiln"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func exportsOnePartInKilnsLayoutWithTheRepairedOutput() throws {
        let root = try Self.projectWithSplit()
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Nov split",
                "--part", "train",
                "--format", "openai_chat_jsonl", "--out", "train.jsonl",
            ], in: root)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("wrote 2 examples to"))
        let lines = try String(contentsOf: root.appendingPathComponent("train.jsonl"), encoding: .utf8).split(
            separator: "\n")
        let first =
            #"{"messages": [{"role": "system", "content": "Answer."}, "#
            + #"{"role": "user", "content": "question r3"}, {"role": "assistant", "content": "answer r3"}]}"#
        #expect(lines.first.map(String.init) == first)
        #expect(
            lines.last?.hasSuffix(#"{"role": "assistant", "content": "repaired r4"}]}"#) == true,
            "the repaired output wins")
        let arguments = [
            "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "700000000001",
            "--part", "train", "--out", "train.jsonl",
        ]
        let again = try KilnPipeBinary.run(arguments, in: root)
        // The export stage's overwrite policy: its own file is replaced, an edited one only with --force.
        #expect(again.status == 0, "\(again.stderr)")
        try "edited by hand\n".write(to: root.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        let edited = try KilnPipeBinary.run(arguments, in: root)
        #expect(edited.status == 2)
        #expect(edited.stderr.contains("train.jsonl exists and was not written by kiln-pipe (or was edited since)"))
        #expect(edited.stderr.contains("choose another --out, or rerun with --force"))
        #expect(
            try String(contentsOf: root.appendingPathComponent("train.jsonl"), encoding: .utf8) == "edited by hand\n")
        let forced = try KilnPipeBinary.run(arguments + ["--force"], in: root)
        #expect(forced.status == 0 && forced.stdout.contains("wrote 2 examples to"), "\(forced.stderr)")
    }

    /// `kiln-pipe export` refuses what `validate` refuses in an export stage (one check, in the model).
    @Test(arguments: [
        (
            ["--target", "vertex", "--format", "openai_chat_jsonl"],
            "--format: vertex does not accept format 'openai_chat_jsonl'"
        ),
        (
            ["--target", "vertex", "--strategy", "final_and_intermediate_r1_compatible"],
            "--strategy: vertex fine-tuning does not take strategy 'final_and_intermediate_r1_compatible'"
        ),
        (["--format", "openai_chat_json_schema_jsonl"], "needs structured output, but the task has no output_schema"),
    ])
    func refusesWhatTheExportStageRefuses(flags: [String], message: String) throws {
        let root = try Self.projectWithSplit()
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Nov split",
                "--part", "train", "--out", "train.jsonl",
            ] + flags, in: root)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("train.jsonl").path))
    }

    @Test func aMissingRunOrSplitIsAClearError() throws {
        let root = try Self.projectWithSplit()
        defer { try? FileManager.default.removeItem(at: root) }
        let missingRun = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Nov split",
                "--out", "all",
            ], in: root)
        #expect(missingRun.status == 2)
        #expect(missingRun.stderr.contains("Task run missing not found. This is required by this dataset."))
        let written = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("all").path)
        #expect(written.isEmpty, "nothing partial is left under a final name: \(written)")
        let missingSplit = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Dec", "--out",
                "x.jsonl",
            ], in: root)
        #expect(missingSplit.status == 2)
        #expect(
            missingSplit.stderr.contains(
                "the task has no dataset split 'Dec' (its splits are 700000000001 'Nov split')"))
        let badFormat = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", "project/project.kiln", "--task", "100000000001", "--split", "Nov split",
                "--format", "csv", "--out", "x",
            ], in: root)
        #expect(badFormat.status == 2 && badFormat.stderr.contains("unknown --format 'csv'"))
    }
}
