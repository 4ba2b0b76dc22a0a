import Foundation
import Testing

/// What a person does in Kiln between kiln-pipe runs survives every rerun, and Kiln 1.2.0 itself (with its LLM
/// stack: adapters and dataset formatter, `make test`'s KILN_FULL_PYTHON) loads, formats and can run everything
/// kiln-pipe writes.
@Suite struct KilnRoundTrip {
    /// A task whose name and rubric Kiln's names reject as written; the instruction and the judge's model are vars,
    /// so a rerun can change the prompt or the judge.
    static let pipeline = """
        version: 1
        name: rt
        vars: {style: "Reply to the customer.", judge_model: fake-judge}
        providers:
          gen: {kind: fake, model: fake-gen}
          judge: {kind: fake, model: "${judge_model}"}
        task:
          name: "Support reply: v2/beta"
          instruction: "${style}"
          requirements:
            - {name: Tone of voice, instruction: Be warm., type: five_star}
            - {name: Is it brief?, instruction: Keep it short., type: pass_fail}
        stages:
          - {id: rows, type: load, path: rows.jsonl}
          - {id: answers, type: outputs, from: rows, models: [gen]}
          - {id: judged, type: judge, from: answers, provider: judge}
          - {id: split, type: split, from: judged, preset: train_test}
          - {id: kiln, type: export, from: split, kiln_project: proj}
        """

    /// Loads from the task the first pipeline wrote and exports into the same task.
    static func reloading(taskID: String) -> String {
        """
        version: 1
        name: rt-b
        providers:
          gen: {kind: fake, model: fake-gen-b}
          judge: {kind: fake, model: fake-judge}
        task: {kiln_project: proj, task_id: "\(taskID)"}
        stages:
          - {id: runs, type: load, kiln_project: proj/project.kiln}
          - {id: answers, type: outputs, from: runs, models: [gen]}
          - {id: judged, type: judge, from: answers, provider: judge}
          - {id: split, type: split, from: judged, preset: train_test}
          - {id: kiln, type: export, from: split, kiln_project: proj}
        """
    }

    struct Kiln {
        let python: URL
        let directory: URL

        /// Runs kiln_round_trip.py; its last stdout line is JSON (kiln-ai's imports print banners before it).
        func call(_ arguments: [String]) throws -> [String: Any] {
            let script = KilnPipeBinary.repositoryRoot.appendingPathComponent(
                "Tests/KilnCommandsTests/Support/kiln_round_trip.py")
            let result = try KilnPipeBinary.run(
                [script.path] + arguments, in: directory,
                environment: [
                    "HOME": directory.appendingPathComponent("home").path, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                ], executable: python)
            #expect(result.status == 0, "\(result.stderr.suffix(3000))")
            let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
            return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        }

        /// Kiln's view of the project's one task.
        func task(edits: String? = nil) throws -> [String: Any] {
            let summary = try call(["check", "proj/project.kiln"] + (edits.map { [$0] } ?? []))
            return try #require((summary["tasks"] as? [[String: Any]])?.first)
        }
    }

    static func setUp() throws -> (URL, Kiln)? {
        guard let python = ProcessInfo.processInfo.environment["KILN_FULL_PYTHON"] else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-rt-\(UUID().uuidString)")
        // An empty folder: the first write starts the project there.
        for folder in ["proj", "home"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try (1...10).map { #"{"input": "Where is order \#($0)?", "tags": ["batch one"]}"# }.joined(separator: "\n")
            .write(to: directory.appendingPathComponent("rows.jsonl"), atomically: true, encoding: .utf8)
        try pipeline.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        return (directory, Kiln(python: URL(fileURLWithPath: python), directory: directory))
    }

    @Test func ratingsRepairsAndTagsSurviveRerunsAndAChangedPromptOrJudge() throws {
        guard let (directory, kiln) = try Self.setUp() else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        // Kiln's naming rules: the names Kiln would reject are shown with the names written instead.
        let validation = try KilnPipeBinary.run(["validate", "p.yml"], in: directory)
        #expect(validation.status == 0)
        #expect(
            validation.stdout.contains(
                "p.yml:8:9: warning: task name 'Support reply: v2/beta' is written to the Kiln project as "
                    + "'Support reply v2 beta'"), "\(validation.stdout)")
        #expect(
            validation.stdout.contains("requirement 'Is it brief?' is written to the Kiln project as 'Is it brief'"))

        let first = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("started the Kiln project"), "\(first.stdout)")
        var task = try kiln.task()
        #expect(task["name"] as? String == "Support reply v2 beta")
        #expect(task["requirements"] as? [String] == ["Tone of voice", "Is it brief"])
        let evals = try #require(task["evals"] as? [[String: Any]])
        let configs = try #require(evals.first?["configs"] as? [[String: Any]])
        #expect(configs.first?["scores"] as? [String] == ["is_it_brief", "overall", "tone_of_voice"])
        #expect(configs.first?["runs"] as? Int == 10)
        // Kiln builds an adapter from the run config kiln-pipe wrote (its OpenAI-compatible provider named `gen`).
        #expect(task["adapters"] as? [String: String] == ["gen": "LiteLlmAdapter"], "\(task)")

        // A person rates, repairs and tags runs and edits the task in Kiln.
        let edits = try kiln.call(["edit", "proj/project.kiln"])
        let editsJSON = String(decoding: try JSONSerialization.data(withJSONObject: edits), as: UTF8.self)
        let intact = ["rated": true, "repaired": true, "tagged": true, "description": true]

        // The same pipeline again: nothing changes but kiln-pipe's own fields; every edit stays.
        let same = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        task = try kiln.task(edits: editsJSON)
        #expect(task["edits"] as? [String: Bool] == intact, "\(task)")
        #expect(task["runs"] as? Int == 10)

        // A changed prompt: the reviewed runs stay as they were and their new results are new runs; the tagged one
        // is updated in place and keeps its tag.
        let changed = try KilnPipeBinary.run(
            ["run", "p.yml", "--var", "style=Reply briefly to the customer."], in: directory)
        #expect(changed.status == 0, "\(changed.stdout)\(changed.stderr)")
        #expect(
            changed.stdout.contains(
                "kept 2 runs a person rated or repaired in Kiln as they were; the changed results are new runs"),
            "\(changed.stdout)")
        task = try kiln.task(edits: editsJSON)
        #expect(task["edits"] as? [String: Bool] == intact, "\(task)")
        #expect(task["runs"] as? Int == 12)
        let split = try #require((task["splits"] as? [[String: Any]])?.first)
        #expect(split["references"] as? Int == 10 && split["unique"] as? Int == 10)
        #expect((split["missing"] as? [String])?.isEmpty == true)

        // A changed judge: a new eval config with its own id, made current; the old one keeps its runs, all valid.
        let judged = try KilnPipeBinary.run(
            ["run", "p.yml", "--var", "style=Reply briefly to the customer.", "--var", "judge_model=fake-judge-2"],
            in: directory)
        #expect(judged.status == 0, "\(judged.stdout)\(judged.stderr)")
        task = try kiln.task(edits: editsJSON)
        #expect(task["edits"] as? [String: Bool] == intact)
        let eval = try #require((task["evals"] as? [[String: Any]])?.first)
        let both = try #require(eval["configs"] as? [[String: Any]])
        #expect(both.count == 2)
        #expect(Set(both.compactMap { $0["id"] as? String }).count == 2)
        #expect(
            eval["current"] as? String == both.first { $0["model"] as? String == "judge::fake-judge-2" }?["id"]
                as? String)
        #expect(both.allSatisfy { ($0["dangling"] as? [String])?.isEmpty == true && ($0["runs"] as? Int ?? 0) >= 10 })
    }

    @Test func loadingFromATaskAndExportingIntoItListsEachRunOnce() throws {
        guard let (directory, kiln) = try Self.setUp() else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try KilnPipeBinary.run(["run", "p.yml"], in: directory).status == 0)
        let taskID = try #require(try kiln.task()["id"] as? String)
        try Self.reloading(taskID: taskID).write(
            to: directory.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        for round in 1...3 {
            let run = try KilnPipeBinary.run(["run", "b.yml"], in: directory)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            if round > 1 {
                #expect(run.stdout.contains("left out 10 runs this pipeline wrote into the Kiln task itself"))
            }
            let task = try kiln.task()
            #expect(task["runs"] as? Int == 20, "round \(round): \(task)")
            let split = try #require(
                (task["splits"] as? [[String: Any]])?.first { $0["name"] as? String == "rt-b kiln" })
            #expect(split["references"] as? Int == 10 && split["unique"] as? Int == 10, "round \(round): \(split)")
            // Kiln's own formatter writes each example once.
            let lines = (split["formatted_lines"] as? [String: Int])?.values.reduce(0, +)
            #expect(lines == 10, "round \(round): \(split)")
        }
        // The loaded rows' tags travel to the runs written back (a space is not allowed in a Kiln tag).
        let runs = try FileManager.default.subpathsOfDirectory(atPath: directory.appendingPathComponent("proj").path)
            .filter { $0.hasSuffix("task_run.kiln") }
        let texts = try runs.map {
            try String(contentsOf: directory.appendingPathComponent("proj/\($0)"), encoding: .utf8)
        }
        let written = texts.filter { $0.contains(#""pipeline": "rt-b""#) }
        #expect(written.count == 10)
        #expect(written.allSatisfy { $0.contains(#""batch_one""#) && $0.contains(#""file_name": "rows.jsonl""#) })
    }
}
