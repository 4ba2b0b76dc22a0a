import Foundation
import KilnFakeProvider
import KilnTesting
import Testing

/// Tasks of the pipeline offered as tools (Kiln's kiln_task tools, sub-agents): a model hands each arithmetic
/// question to a calculator task, which runs on its own model with Kiln's math tools; every turn of both
/// conversations is paid once through faults, kills and reruns, `plan` counts them, and the runs export as Kiln's
/// own formatter writes them from the same runs written into a Kiln project.
@Suite struct SubAgents {
    static let instruction = "Answer the question. Hand arithmetic to the calculator tool."

    static let pipeline = """
        version: 1
        name: scenario
        providers:
          boss: {kind: openai, model: boss, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 8, timeout_s: 2,
                 input_price_per_million: 1, output_price_per_million: 2}
          worker: {kind: openai, model: worker, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 8,
                   timeout_s: 2, input_price_per_million: 0.5, output_price_per_million: 1}
        task:
          name: Word problems
          instruction: \(instruction)
          output_schema: {type: object, properties: {answer: {type: number}}, required: [answer]}
        tasks:
          calculator:
            instruction: Work out the arithmetic with the math tools.
            description: Works out arithmetic questions.
            model: worker
            tools: [math]
            output_schema: {type: object, properties: {answer: {type: number}}, required: [answer]}
        stages:
          - {id: problems, type: load, path: problems.jsonl}
          - id: answers
            type: outputs
            from: problems
            models: [boss]
            tools: [{task: calculator}]
          - id: checked
            type: judge
            from: answers
            assertions:
              - {type: tool_called, tool: calculator, name: delegated}
              - {type: tool_not_called, tool: multiply, name: did_not_multiply_itself}
            thresholds: {delegated: "pass_rate == 1", did_not_multiply_itself: "pass_rate == 1"}
          - {id: split, type: split, from: checked, preset: train_test}
          - {id: openai, type: export, from: split, format: openai_chat_jsonl, out: exports/openai}
          - {id: vertex, type: export, from: split, format: vertex_gemini, out: exports/vertex}
          - {id: kiln, type: export, from: split, kiln_project: proj}
        """

    /// Twelve questions "what is A times B?" (or plus), each naming the calculator.
    static func scenario(faults: [FaultRule] = [], latencyMS: Int = 0) throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline, faults: faults, latencyMS: latencyMS)
        let lines = (0..<12).map { index in
            let operation = index % 2 == 0 ? "times" : "plus"
            return #"{"input": "Ask the calculator: what is \#(3 + index) \#(operation) \#(7 + index)?"}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(
            to: scenario.directory.appendingPathComponent("problems.jsonl"), atomically: true, encoding: .utf8)
        return scenario
    }

    @Test func aTaskCalledAsAToolRunsOnItsOwnModelAndEveryTurnIsPaidOnce() throws {
        let scenario = try Self.scenario(faults: [
            FaultRule(kind: .serverError, percent: 15), FaultRule(kind: .schemaInvalid, percent: 10),
        ])
        defer { scenario.finish() }
        // plan counts both conversations: the caller's tool call and answer, the calculator's likewise.
        let plan = try KilnPipeBinary.run(["plan", "p.yml", "--json"], in: scenario.directory)
        #expect(plan.status == 0, "\(plan.stderr)")
        let forecast = try #require(
            (try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])?["stages"]
                as? [[String: Any]])
        let answersPlan = try #require(forecast.first { $0["id"] as? String == "answers" })
        #expect((answersPlan["calls"] as? [String: Any])?["low"] as? Int == 48)
        #expect((answersPlan["notes"] as? [String])?.contains { $0.hasPrefix("an agent's turns are a guess") } == true)

        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 12)
        for item in answers {
            let input = item["input"] as? String ?? ""
            let numbers = input.split { !$0.isNumber }.compactMap { Int($0) }
            let expected = input.contains("times") ? numbers[0] * numbers[1] : numbers[0] + numbers[1]
            #expect((item["output"] as? [String: Any])?["answer"] as? Double == Double(expected), "\(input)")
            #expect(item["tool_ids"] as? [String] == ["kiln_task::calculator"])
            let runs = item["sub_task_runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 1)
            let run = try #require(runs.first)
            #expect(run["task"] as? String == "calculator" && run["model"] as? String == "worker")
            #expect(run["input"] as? String == input, "the caller handed the question over")
            // The calculator's own conversation: its math tool call and result, then its answer.
            let trace = run["trace"] as? [[String: Any]] ?? []
            #expect(trace.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "assistant"])
            let call = (trace[2]["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
            #expect(call?["name"] as? String == (input.contains("times") ? "multiply" : "add"))
            #expect((trace[3]["content"] as? String) == String(expected))
            // The caller's trace holds the calculator's answer as the tool's result.
            let callerTrace = item["trace"] as? [[String: Any]] ?? []
            #expect(
                callerTrace.first { $0["role"] as? String == "tool" }?["content"] as? String == run["output"] as? String
            )
        }
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.duplicateSuccesses == 0)
        #expect(statistics.succeeded == 48, "two turns of the caller and two of the calculator per question")

        // A rerun answers everything from the store.
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.requests == statistics.requests)
        let again = try KilnPipeBinary.run(["plan", "p.yml", "--json"], in: scenario.directory)
        let stages = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["stages"]
        let answersAgain = (stages as? [[String: Any]])?.first { $0["id"] as? String == "answers" }
        #expect((answersAgain?["calls"] as? [String: Any])?["high"] as? Int == 0, "nothing is left to pay for")
    }

    /// The task runs on a Claude or Gemini model while its caller is OpenAI-compatible: each conversation in its
    /// provider's own tool shape, both traces in Kiln's.
    @Test(arguments: ["anthropic", "gemini"])
    func aTaskRunsOnANativeModel(kind: String) throws {
        let scenario = try Self.scenario()
        defer { scenario.finish() }
        try scenario.editPipeline {
            $0.replacingOccurrences(
                of: "worker: {kind: openai, model: worker, base_url: \"\(scenario.fake.baseURL)\"",
                with: "worker: {kind: \(kind), model: worker, base_url: \"\(scenario.fake.baseURL)"
                    + "\(kind == "gemini" ? "beta" : "")\"")
        }
        let written = try String(contentsOf: scenario.directory.appendingPathComponent("p.yml"), encoding: .utf8)
        #expect(written.contains("worker: {kind: \(kind), model: worker"))
        let run = try scenario.run()
        #expect(run.status == 0, "\(kind): \(run.stdout)\(run.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 12)
        for item in answers {
            let sub = (item["sub_task_runs"] as? [[String: Any]])?.first
            let trace = sub?["trace"] as? [[String: Any]] ?? []
            #expect(
                trace.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "assistant"], "\(kind)")
        }
        let plus = answers.first { ($0["input"] as? String)?.contains("what is 4 plus 8") == true }
        #expect((plus?["output"] as? [String: Any])?["answer"] as? Double == 12, "\(kind)")
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 0)
    }

    /// Killed at random moments while both conversations go on: the rerun pays for no turn the killed runs received.
    @Test func killedMidConversationsResumesWithoutPayingATurnTwice() throws {
        let scenario = try Self.scenario(latencyMS: 40)
        defer { scenario.finish() }
        try Agents.expectEveryTurnPaidOnceAcrossKills(scenario, first: 0.2, later: 0.1...0.35, items: 12, turns: 48)
    }

    /// A RAG eval whose agent hands each question to a researcher task that searches: what the task's searches
    /// found is the item's retrieval, so hit@k and MRR score it (not 0 because the caller did not search itself).
    @Test func aTaskThatSearchesCountsForTheCallersRetrieval() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-sub-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try KilnPipeBinary.run(["init", "docs", "--dir", folder.path]).status == 0)
        let file = folder.appendingPathComponent("docs.yml")
        let pipeline = try String(contentsOf: file, encoding: .utf8)
        #expect(pipeline.contains("tools: [{search: idx}]"))
        try pipeline.replacingOccurrences(of: "tools: [{search: idx}]", with: "tools: [{task: researcher}]")
            .replacingOccurrences(
                of: "\nstages:",
                with: """

                    tasks:
                      researcher:
                        instruction: Find the passages of the pottery notes that answer the question.
                        model: assistant
                        tools: [{search: idx}]

                    stages:
                    """
            ).write(to: file, atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "docs.yml", "--json"], in: folder)
        #expect(run.status == 0, "\(run.stdout.suffix(2000))\(run.stderr)")
        let answers = KilnPipeBinary.jsonObjects(
            inFile: folder.appendingPathComponent(".kiln-pipe/out/docs/answers.jsonl"))
        #expect(!answers.isEmpty)
        for item in answers {
            #expect(item["tool_ids"] as? [String] == ["kiln_task::researcher"])
            #expect(!((item["retrieved"] as? [Any]) ?? []).isEmpty, "the researcher's search results")
        }
        let rag = KilnPipeBinary.jsonObjects(inFile: folder.appendingPathComponent(".kiln-pipe/out/docs/rag.jsonl"))
        let hits = rag.compactMap { ($0["scores"] as? [String: Any])?["hit_at_5"] as? Double }
        #expect(hits.count == answers.count && hits.reduce(0, +) / Double(max(1, hits.count)) >= 0.8, "\(hits)")
    }

    /// Written into a Kiln project: the calculator becomes a task with its own runs (tagged tool_call, their
    /// source the tool call), a run config and a kiln_task tool server; each calling run's tool result links to the
    /// run it made. Kiln loads and validates all of it, resolves `kiln_task::calculator` to the task's tool, and its
    /// formatter writes what kiln-pipe exported, byte for byte.
    @Test func kilnReadsTheTasksRunsAndItsFormatterWritesTheSameExports() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_FULL_PYTHON"] else { return }
        let scenario = try Self.scenario(faults: [FaultRule(kind: .serverError, percent: 10)])
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        // Kiln finds a task tool's project through its settings (the projects it knows).
        let home = scenario.directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent(".kiln_ai"), withIntermediateDirectories: true)
        try "projects:\n- \(scenario.directory.appendingPathComponent("proj/project.kiln").path)\n".write(
            to: home.appendingPathComponent(".kiln_ai/settings.yaml"), atomically: true, encoding: .utf8)
        let script =
            Agents.kilnFormatter + """
                from kiln_ai.tools.tool_registry import tool_from_id
                project = Project.load_from_file(sys.argv[1])
                tasks = {task.name: task for task in project.tasks()}
                caller, calculator = tasks["Word problems"], tasks["calculator"]
                links = set()
                for run in caller.runs():
                    for message in run.trace:
                        if message.get("role") == "tool":
                            links.add(message["kiln_task_tool_data"].split(":::")[3])
                sub_runs = {run.id: run for run in calculator.runs()}
                tool = tool_from_id("kiln_task::calculator", caller)
                definition = asyncio.run(tool.toolcall_definition())
                print(json.dumps({
                    "files": formatted(caller.dataset_splits()[0], sys.argv[2]),
                    "linked": sorted(links) == sorted(sub_runs), "sub_runs": len(sub_runs),
                    "sources": sorted({run.input_source.type.value for run in sub_runs.values()}),
                    "tags": sorted({tag for run in sub_runs.values() for tag in run.tags}),
                    "tools": [config.run_config_properties.tools_config.tools for config in calculator.run_configs()],
                    "definition": definition["function"]["name"],
                }))
                """
        let kiln = try KilnPipeBinary.run(
            ["-c", script, "proj/project.kiln", Self.instruction], in: scenario.directory,
            environment: ["HOME": home.path, "LITELLM_LOCAL_MODEL_COST_MAP": "True"],
            executable: URL(fileURLWithPath: python))
        #expect(kiln.status == 0, "\(kiln.stderr.suffix(2000))")
        let last = kiln.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["sub_runs"] as? Int == 12 && report["linked"] as? Bool == true)
        #expect(report["sources"] as? [String] == ["tool_call"])
        #expect(report["tags"] as? [String] == ["kiln_pipe", "tool_call"])
        #expect(
            report["tools"] as? [[String]] == [
                [
                    "kiln_tool::add_numbers", "kiln_tool::subtract_numbers", "kiln_tool::multiply_numbers",
                    "kiln_tool::divide_numbers",
                ]
            ])
        #expect(report["definition"] as? String == "calculator")
        let files = try #require(report["files"] as? [String: String])
        try Agents.expectKilnWroteTheExports(files, in: scenario.directory) { key, mine in
            #expect(mine.contains("Works out arithmetic questions."), "\(key): the task tool's definition")
        }
        // Written again, nothing doubles: the runs are found by their ids.
        #expect(try scenario.run(["--fresh"]).status == 0)
        let runs = try FileManager.default.subpathsOfDirectory(
            atPath: scenario.directory.appendingPathComponent("proj").path
        ).filter { $0.hasSuffix("task_run.kiln") }
        #expect(runs.count == 24)
    }
}
