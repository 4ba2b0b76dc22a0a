import Foundation
import KilnFakeProvider
import KilnTesting
import Testing

/// Agents at batch scale: an `outputs` stage with tools runs Kiln's tool loop against the fake provider (which
/// answers arithmetic word problems with tool calls), with faults, kills and reruns, and its runs export exactly as
/// Kiln 1.2.0's formatter writes them from the same runs written into a Kiln project.
@Suite struct Agents {
    static let instruction = "Answer the arithmetic word problem. Use the tools."

    /// The MCP calculator server of the reference venv (the official Python SDK), when `make test` provides it.
    static var calculator: String? {
        ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"].map { python in
            let server = KilnPipeBinary.repositoryRoot.appendingPathComponent(
                "Tests/KilnCommandsTests/Support/mcp_calculator_server.py")
            return "{mcp: {name: calc, command: \"\(python)\", args: [\"\(server.path)\"], tools: [power]}}"
        }
    }

    /// The start of a one-model agent pipeline reading problems.jsonl; the test adds its `tools:` entries (indented
    /// by 6) and any later stages.
    static let toolPipeline = """
        version: 1
        name: scenario
        providers:
          gen: {kind: openai, model: agent, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 2}
        task:
          instruction: Answer with the tools.
        stages:
          - {id: problems, type: load, path: problems.jsonl}
          - id: answers
            type: outputs
            from: problems
            models: [gen]
            tools:

        """

    static func pipeline(concurrency: Int = 4) -> String {
        """
        version: 1
        name: scenario
        providers:
          gen:
            {kind: openai, model: agent, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: \(concurrency),
             max_retries: 8, timeout_s: 2}
        task:
          name: Arithmetic
          instruction: \(instruction)
          output_schema: {type: object, properties: {answer: {type: number}}, required: [answer]}
        stages:
          - {id: problems, type: load, path: problems.jsonl}
          - id: answers
            type: outputs
            from: problems
            models: [gen]
            tools: [math\(calculator.map { ", " + $0 } ?? "")]
            max_tool_calls: 3
          - id: checked
            type: judge
            from: answers
            assertions:
              - {type: tool_called}
              - {type: tool_not_called, tool: divide, name: no_division}
              - {type: max_tool_calls, value: 1}
              - {type: tool_called, tool: power, name: used_power}
            thresholds: {tool_called: "pass_rate == 1", max_tool_calls: "pass_rate == 1"}
          - {id: split, type: split, from: checked, preset: train_test}
          - {id: openai, type: export, from: split, format: openai_chat_jsonl, out: exports/openai}
          - {id: vertex, type: export, from: split, format: vertex_gemini, out: exports/vertex}
          - {id: kiln, type: export, from: split, kiln_project: proj}
        """
    }

    /// Twenty word problems: with the MCP calculator every fifth asks for a power (its tool), the others (all of
    /// them without it) one of the four operations.
    static func writeProblems(to directory: URL) throws {
        let operations = ["plus", "minus", "times", "divided by"]
        let lines = (0..<20).map { index in
            let (a, b) = (10 + index * 3, 2 + index % 5)
            if calculator != nil, index % 5 == 4 {
                return #"{"input": "A kiln's heat grows; what is \#(a) to the power of \#(b)? Use the power tool."}"#
            }
            return #"{"input": "A shop has \#(a) boxes; what is \#(a) \#(operations[index % 4]) \#(b)?"}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("problems.jsonl"), atomically: true, encoding: .utf8)
    }

    static func scenario(faults: [FaultRule] = [], latencyMS: Int = 0, concurrency: Int = 4) throws -> RunScenario {
        let scenario = try RunScenario(
            pipeline: pipeline(concurrency: concurrency), faults: faults, latencyMS: latencyMS)
        try writeProblems(to: scenario.directory)
        return scenario
    }

    @Test func everyItemCarriesItsToolCallsThroughFaultsAndARerunMakesNoCall() throws {
        let scenario = try Self.scenario(faults: [
            FaultRule(kind: .serverError, percent: 15), FaultRule(kind: .schemaInvalid, percent: 15),
        ])
        defer { scenario.finish() }
        let first = try scenario.run()
        // Division problems call `divide`: the no_division assertion fails for them, without a threshold on it.
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 20)
        let math = [
            "kiln_tool::add_numbers", "kiln_tool::subtract_numbers", "kiln_tool::multiply_numbers",
            "kiln_tool::divide_numbers",
        ]
        for item in answers {
            let trace = item["trace"] as? [[String: Any]] ?? []
            #expect(trace.contains { $0["tool_calls"] != nil } && trace.contains { $0["role"] as? String == "tool" })
            #expect(item["tool_calls"] as? Int == 1)
            #expect(item["tool_ids"] as? [String] == math + (Self.calculator == nil ? [] : ["mcp::local::calc::power"]))
        }
        // The tool's result is the answer: 10 + 3 * index plus 2 + index % 5, and so on.
        let first20 = answers.first { ($0["input"] as? String)?.contains("what is 10 plus 2") == true }
        #expect(CrashSafety.canonical(first20?["output"]) == #"{"answer":12}"#)
        let checked = scenario.items(of: "checked")
        let divisions = checked.filter { ($0["input"] as? String)?.contains("divided") == true }
        #expect(divisions.count == (Self.calculator == nil ? 5 : 4))
        #expect(divisions.allSatisfy { ($0["scores"] as? [String: Any])?["no_division"] as? Int == 0 })
        let powers = checked.filter { ($0["input"] as? String)?.contains("power") == true }
        #expect(powers.count == (Self.calculator == nil ? 0 : 4))
        #expect(checked.allSatisfy { ($0["scores"] as? [String: Any])?["tool_called"] as? Int == 1 })
        #expect(powers.allSatisfy { ($0["scores"] as? [String: Any])?["used_power"] as? Int == 1 })
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.duplicateSuccesses == 0)
        // Two model turns per item: the tool call, then the answer.
        #expect(statistics.succeeded == 40)

        // A rerun answers everything from the store.
        let again = try scenario.run()
        #expect(again.status == 0)
        #expect(scenario.fake.currentStatistics.requests == statistics.requests)
    }

    /// `batch: true`: every model turn of every conversation goes through the provider's batch API, once (the
    /// first turns in one batch, the turns after the tool results in the next), at the batch price.
    @Test func everyTurnGoesThroughTheBatchAPI() throws {
        let scenario = try RunScenario(
            pipeline: Self.pipeline().replacingOccurrences(
                of: "timeout_s: 2}", with: "timeout_s: 2, batch: true, batch_poll_max_s: 1}"),
            fake: FakeProviderConfig(batchSeconds: 0.3))
        defer { scenario.finish() }
        try Self.writeProblems(to: scenario.directory)
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 20)
        #expect(answers.allSatisfy { $0["tool_calls"] as? Int == 1 })
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.batchRequests == 40, "two turns of each of the 20 conversations, each batched once")
        #expect(statistics.batchSubmissions >= 2)
        #expect(statistics.duplicateSuccesses == 0)
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.batchRequests == 40)
    }

    /// A Claude agent: the tools go out in Anthropic's shape (the answer as one more tool, a tool call required
    /// each turn), the calls come back as `tool_use` blocks and the results go back as `tool_result` blocks. A
    /// Gemini agent: function declarations, `functionCall` and `functionResponse` parts. The trace is Kiln's OpenAI
    /// shape all the same.
    @Test(arguments: ["anthropic", "gemini"])
    func aNativeModelRunsTheToolLoop(kind: String) throws {
        let scenario = try RunScenario(
            pipeline: Self.pipeline().replacingOccurrences(
                of: "{kind: openai, model: agent, base_url: \"BASE_URL\"",
                with: "{kind: \(kind), model: \(kind)-agent, base_url: \"BASE_URL\(kind == "gemini" ? "beta" : "")\""),
            faults: [FaultRule(kind: .serverError, percent: 10)])
        defer { scenario.finish() }
        try Self.writeProblems(to: scenario.directory)
        let first = try scenario.run()
        #expect(first.status == 0, "\(kind): \(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 20)
        for item in answers {
            #expect(item["tool_calls"] as? Int == 1, "\(kind)")
            let trace = item["trace"] as? [[String: Any]] ?? []
            #expect(trace.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "assistant"])
        }
        let plus = answers.first { ($0["input"] as? String)?.contains("what is 10 plus 2") == true }
        #expect(CrashSafety.canonical(plus?["output"]) == #"{"answer":12}"#)
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.succeeded == 40 && statistics.duplicateSuccesses == 0)
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.requests == statistics.requests)
    }

    /// Killed at random moments mid-conversation: the rerun pays for no model turn the killed runs received.
    @Test func killedMidConversationResumesWithoutPayingATurnTwice() throws {
        let scenario = try Self.scenario(latencyMS: 40, concurrency: 4)
        defer { scenario.finish() }
        try Self.expectEveryTurnPaidOnceAcrossKills(scenario, first: 0.15, later: 0.1...0.3, items: 20, turns: 40)
    }

    /// Kills runs of `scenario` at random moments (the first after `first` seconds, two more within `later`), then
    /// reruns it: every model turn is paid for once. An answer the provider sent after the kill signal reached a
    /// dying process, and one sent in the last milliseconds before it may still sit in the socket: no client keeps
    /// those (`make bench` measures that window in a release build). Every turn answered 20 ms or more before a
    /// kill is kept.
    static func expectEveryTurnPaidOnceAcrossKills(
        _ scenario: RunScenario, first: Double, later: ClosedRange<Double>, items: Int, turns: Int
    ) throws {
        var generator = SystemRandomNumberGenerator()
        let moments = try CrashSafety.killMoments(
            scenario, after: [first] + (0..<2).map { _ in Double.random(in: later, using: &generator) })
        let final = try scenario.run()
        #expect(final.status == 0, "\(final.stdout)\(final.stderr)")
        #expect(!moments.isEmpty, "at least one run was killed mid-way")
        let ages = scenario.fake.firstDeliveriesOfRepaid.compactMap { first in
            moments.min { abs($0 - first) < abs($1 - first) }.map { ($0 - first) * 1000 }
        }
        #expect(ages.allSatisfy { $0 < 20 }, "turns paid again, delivered this many ms before a kill: \(ages)")
        #expect(scenario.items(of: "answers").count == items)
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.succeeded - statistics.duplicateSuccesses == turns, "every turn paid for once")
    }

    /// The same runs written into a Kiln project: Kiln's own formatter writes what kiln-pipe exported, byte for byte.
    @Test func exportsEqualKilnsFormatterOverTheRunsWrittenIntoKiln() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_FULL_PYTHON"] else { return }
        let scenario = try Self.scenario(faults: [
            FaultRule(kind: .serverError, percent: 15), FaultRule(kind: .schemaInvalid, percent: 10),
        ])
        defer { scenario.finish() }
        try FileManager.default.createDirectory(
            at: scenario.directory.appendingPathComponent("home"), withIntermediateDirectories: true)
        #expect(try scenario.run().status == 0)
        let script =
            Self.kilnFormatter + """
                split = Project.load_from_file(sys.argv[1]).tasks()[0].dataset_splits()[0]
                print(json.dumps(formatted(split, sys.argv[2])))
                """
        let kiln = try KilnPipeBinary.run(
            ["-c", script, "proj/project.kiln", Self.instruction], in: scenario.directory,
            environment: [
                "HOME": scenario.directory.appendingPathComponent("home").path, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            ], executable: URL(fileURLWithPath: python))
        #expect(kiln.status == 0, "\(kiln.stderr.suffix(2000))")
        let last = kiln.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let files = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String])
        try Self.expectKilnWroteTheExports(files, in: scenario.directory) { key, mine in
            #expect(mine.contains("tool_call") || mine.contains("functionCall"))
            // Kiln described the MCP calculator's tool by starting the server the project now records.
            if Self.calculator != nil { #expect(mine.contains("Raise base to the power exponent."), "\(key)") }
        }
    }

    /// Python defining `formatted(split, system)`: what Kiln 1.2.0's DatasetFormatter writes of each part of a
    /// split in openai_chat_jsonl and vertex_gemini, as {"<format>/<part>": text}.
    static let kilnFormatter = """
        import asyncio, json, sys, tempfile
        from pathlib import Path
        from kiln_ai.datamodel import Project
        from kiln_ai.adapters.fine_tune.dataset_formatter import DatasetFormatter, DatasetFormat
        from kiln_ai.datamodel.datamodel_enums import ChatStrategy
        def formatted(split, system):
            out = {}
            for fmt in ["openai_chat_jsonl", "vertex_gemini"]:
                for part in split.split_contents:
                    path = Path(tempfile.mkdtemp()) / "out.jsonl"
                    asyncio.run(DatasetFormatter(split, system).dump_to_file(
                        part, DatasetFormat(fmt), ChatStrategy.single_turn, path))
                    out[fmt + "/" + part] = path.read_text()
            return out

        """

    /// Each file Kiln's formatter wrote (`formatted`'s four) equals kiln-pipe's export of it (exports/openai,
    /// exports/vertex); `check` looks further into each.
    static func expectKilnWroteTheExports(
        _ files: [String: String], in directory: URL, check: (String, String) -> Void
    ) throws {
        #expect(files.count == 4)
        for (key, text) in files {
            let parts = key.split(separator: "/")
            let folder = parts[0] == "vertex_gemini" ? "vertex" : "openai"
            let mine = try String(
                contentsOf: directory.appendingPathComponent("exports/\(folder)/\(parts[1]).jsonl"), encoding: .utf8)
            #expect(mine == text, "\(key) differs from Kiln's formatter")
            check(key, mine)
        }
    }

    /// An MCP server nobody here wrote (the official Python SDK) over stdio: its tool is listed and called like the
    /// built-ins; one that crashes the server fails only its item with what the server said (exit 3), the run goes
    /// on, and a rerun retries only that item — without asking the model again for the turns it already answered.
    @Test func anMCPServersToolsAreCalledAndACrashFailsOnlyItsItem() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let server = KilnPipeBinary.repositoryRoot.appendingPathComponent(
            "Tests/KilnCommandsTests/Support/mcp_calculator_server.py")
        let scenario = try RunScenario(
            pipeline: Self.toolPipeline + """
                      - math
                      - mcp: {name: calc, command: "\(python)", args: ["\(server.path)"], tools: [power, crash]}
                  - {id: export, type: export, from: answers, format: openai_chat_jsonl, out: exports/openai.jsonl}
                """)
        defer { scenario.finish() }
        try [
            #"{"input": "What is 3 plus 4?"}"#, #"{"input": "Use the power tool on two numbers."}"#,
            #"{"input": "Please call crash now."}"#,
        ].joined(separator: "\n").write(
            to: scenario.directory.appendingPathComponent("problems.jsonl"), atomically: true, encoding: .utf8)
        let first = try scenario.run()
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(
            first.stdout.contains(
                "tool 'crash': MCP server 'calc' exited (exit status 3): calculator: crashing on purpose"),
            "\(first.stdout)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 2)
        let power = try #require(answers.first { ($0["input"] as? String)?.contains("power") == true })
        let trace = try #require(power["trace"] as? [[String: Any]])
        let call = try #require((trace.first { $0["tool_calls"] != nil }?["tool_calls"] as? [[String: Any]])?.first)
        #expect((call["function"] as? [String: Any])?["name"] as? String == "power")
        #expect(
            trace.contains { $0["role"] as? String == "tool" && !(($0["content"] as? String) ?? "").hasPrefix("Error") }
        )
        #expect((power["tool_ids"] as? [String])?.contains("mcp::local::calc::power") == true)
        // The server's own definition of its tool goes into the training file.
        let exported = try String(
            contentsOf: scenario.directory.appendingPathComponent("exports/openai.jsonl"), encoding: .utf8)
        #expect(exported.contains(#""name": "power", "description": "Raise base to the power exponent.""#))

        // The rerun retries only the failed item, and its first turn comes from the store.
        let requests = scenario.fake.currentStatistics.requests
        let again = try scenario.run()
        #expect(again.status == 3)
        #expect(scenario.fake.currentStatistics.requests == requests)
    }

    /// A tool the server does not list is found when the server starts: the stage stops once (exit 2) saying where
    /// it is written and what the server has, instead of failing every item alike; no model is asked.
    @Test func aToolTheServerLacksStopsTheStageWithWhereItIsWritten() throws {
        guard let calculator = Self.calculator else { return }
        let scenario = try RunScenario(
            pipeline: Self.pipeline().replacingOccurrences(
                of: calculator,
                with: calculator.replacingOccurrences(
                    of: "tools: [power]", with: "tools: [powr]")))
        defer { scenario.finish() }
        try Self.writeProblems(to: scenario.directory)
        let run = try scenario.run()
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(
            run.stderr.contains(
                "stopped: stage 'answers' (p.yml:13:5): the tools could not be offered: MCP server 'calc' has no "
                    + "tool 'powr' (it lists: power, crash)"), "\(run.stderr)")
        #expect(!run.stderr.contains("threshold"), "a stopped run's partial results are no verdict")
        #expect(scenario.fake.currentStatistics.requests == 0)
    }

    /// The same Python server over streamable HTTP on loopback, its bearer token read from the environment: the
    /// tool is called with the header, the runs name the remote server (`mcp::remote::calc::power`), and the Kiln
    /// project records the server without the token. A wrong token is the tool's error, sent back to the model.
    @Test func anMCPServerOverStreamableHTTPIsCalledWithItsHeader() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let port = try LoopbackPort.free()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = [
            KilnPipeBinary.repositoryRoot.appendingPathComponent(
                "Tests/KilnCommandsTests/Support/mcp_calculator_server.py"
            ).path, "--http", String(port), "s3cret",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate() }
        let scenario = try RunScenario(
            pipeline: Self.toolPipeline + """
                      - mcp:
                          name: calc
                          url: "http://127.0.0.1:\(port)/mcp"
                          headers: {Authorization: "Bearer ${CALC_TOKEN}"}
                          tools: [power]
                  - {id: kiln, type: export, from: answers, kiln_project: proj}
                """)
        defer { scenario.finish() }
        try #"{"input": "Use the power tool on two numbers."}"#.write(
            to: scenario.directory.appendingPathComponent("problems.jsonl"), atomically: true, encoding: .utf8)
        // The server needs a moment to listen.
        let deadline = Date().addingTimeInterval(20)
        var first = try scenario.run(["--var", "CALC_TOKEN=s3cret"])
        while first.status != 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.3)
            first = try scenario.run(["--var", "CALC_TOKEN=s3cret", "--fresh"])
        }
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let answer = try #require(scenario.items(of: "answers").first)
        #expect(answer["tool_ids"] as? [String] == ["mcp::remote::calc::power"])
        #expect(answer["tool_errors"] as? Int == 0)
        let trace = try #require(answer["trace"] as? [[String: Any]])
        let result = trace.first { $0["role"] as? String == "tool" }?["content"] as? String ?? ""
        #expect(result.hasPrefix(#"{"result": ""#), "Kiln's reading of structured content: \(result)")
        let records = try FileManager.default.subpathsOfDirectory(
            atPath: scenario.directory.appendingPathComponent("proj/external_tool_servers").path)
        let file = try #require(records.first { $0.hasSuffix("external_tool_server.kiln") })
        let record = try String(
            contentsOf: scenario.directory.appendingPathComponent("proj/external_tool_servers/\(file)"),
            encoding: .utf8)
        #expect(record.contains(#""type": "remote_mcp""#) || record.contains(#""type":"remote_mcp""#), "\(record)")
        #expect(record.contains("Authorization") && !record.contains("s3cret"), "\(record)")

        // The wrong token: the server refuses the call, the model is told, the item still answers.
        let wrong = try scenario.run(["--var", "CALC_TOKEN=wrong", "--fresh"])
        #expect(wrong.status == 0, "\(wrong.stdout)\(wrong.stderr)")
        let refused = try #require(scenario.items(of: "answers").first)
        #expect(refused["tool_errors"] as? Int == 1)
        let refusal = (refused["trace"] as? [[String: Any]])?.first { $0["role"] as? String == "tool" }
        // The SDK answers a tool that raised with isError and "Error executing tool power".
        #expect(
            (refusal?["content"] as? String)?.hasPrefix("Error executing tool power") == true,
            "\(String(describing: refusal))")
    }

    /// `kiln-pipe mcp` itself as an agent's tool server: the documents' search index, over stdio.
    @Test func kilnPipesOwnMCPServerServesSearchToAnAgent() throws {
        let directory = try DocumentSearch.makeCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try KilnPipeBinary.run(["index", "p.yml", "--quiet"], in: directory)  // broken files: exit 3
        try """
        version: 1
        name: rag
        providers:
          gen: {kind: fake, model: agent}
        task:
          instruction: Answer from the documents.
        stages:
          - {id: questions, type: load, path: questions.jsonl}
          - id: answers
            type: outputs
            from: questions
            models: [gen]
            tools: [{mcp: {name: docs, command: "\(KilnPipeBinary.url.path)", args: [mcp, p.yml]}}]
        """.write(to: directory.appendingPathComponent("agent.yml"), atomically: true, encoding: .utf8)
        try #"{"input": "Use the search tool: how long does a glaze firing take?"}"#.write(
            to: directory.appendingPathComponent("questions.jsonl"), atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "agent.yml"], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let line = try String(
            contentsOf: directory.appendingPathComponent(".kiln-pipe/out/rag/answers.jsonl"), encoding: .utf8)
        let item = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(item["tool_ids"] as? [String] == ["mcp::local::docs::search"])
        let trace = try #require(item["trace"] as? [[String: Any]])
        let call = (trace.first { $0["tool_calls"] != nil }?["tool_calls"] as? [[String: Any]])?.first
        #expect((call?["function"] as? [String: Any])?["name"] as? String == "search")
        #expect(trace.contains { $0["role"] as? String == "tool" })
    }
}
