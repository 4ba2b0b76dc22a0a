import Foundation
import Testing

/// The quickstart and a documents pipeline against a real OpenAI-compatible server nobody here wrote: llama.cpp
/// serving SmolLM2-135M-Instruct and all-MiniLM-L6-v2 (../shared/real-llm). Run by `make test-real`, which starts
/// the server and sets KILN_REAL_LLM and KILN_REAL_EMBEDDINGS; skipped by `make test` without them. The model is
/// tiny: these tests judge the plumbing (schema-valid JSON, real logprobs, valid exports, search), not quality.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["KILN_REAL_LLM"] != nil))
struct RealModel {
    static let environment = ProcessInfo.processInfo.environment
    static var chatURL: String { environment["KILN_REAL_LLM"] ?? "" }
    static var embeddingsURL: String { environment["KILN_REAL_EMBEDDINGS"] ?? chatURL }

    static func scratch(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiln-real-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func jsonLines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func quickstartEndToEnd() throws {
        let directory = try Self.scratch("quickstart")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: KilnPipeBinary.repositoryRoot.appendingPathComponent("pipelines/quickstart.yml"),
            to: directory.appendingPathComponent("quickstart.yml"))
        let run = try KilnPipeBinary.run(
            ["run", "quickstart.yml", "--var", "llm_base_url=\(Self.chatURL)", "--json"], in: directory)
        let events = KilnPipeBinary.jsonObjects(inLines: run.stdout)
        let finished = try #require(
            events.last { $0["event"] as? String == "run_finished" }, "\(run.stdout)\(run.stderr)")
        // A real model may fail an item now and then (each is reported with its reason): at most a tenth.
        #expect([0, 3].contains(run.status), "\(run.stderr)")
        let failed = finished["failed_items"] as? Int ?? 0
        let output = directory.appendingPathComponent(".kiln-pipe/out/quickstart")

        // Every answer is schema-valid JSON (llama.cpp constrains it with the schema's grammar).
        // How many distinct inputs a 135M model writes varies run to run (it repeats itself; dedup drops repeats),
        // so the check is that every input got its answer or a reported failure.
        let inputs = try Self.jsonLines(output.appendingPathComponent("inputs.jsonl"))
        let answers = try Self.jsonLines(output.appendingPathComponent("answers.jsonl"))
        let answersFinished = events.last {
            $0["event"] as? String == "stage_finished" && $0["stage"] as? String == "answers"
        }
        #expect(!answers.isEmpty)
        #expect(
            answers.count + (answersFinished?["failed"] as? Int ?? 0) == inputs.count,
            "\(answers.count) answers for \(inputs.count) inputs")
        // When it fails, the store says which items failed and why (the --json run prints counts only).
        let why =
            failed == 0
            ? ""
            : (try? KilnPipeBinary.run(
                ["status", "quickstart.yml", "--var", "llm_base_url=\(Self.chatURL)"], in: directory
            ).stdout) ?? ""
        #expect(failed * 10 <= answers.count * 2 + 10, "failed \(failed) of \(answers.count) answers:\n\(why)")
        for answer in answers {
            let value = try #require(answer["output"] as? [String: Any], "\(answer)")
            #expect(value["reply"] is String && value["escalate"] is Bool, "\(value)")
        }

        // G-Eval scores come from the judge's token probabilities: weighted means, not only whole stars.
        let geval = try Self.jsonLines(output.appendingPathComponent("geval.jsonl"))
        #expect(!geval.isEmpty)
        let overall = geval.compactMap { ($0["scores"] as? [String: Any])?["overall"] as? Double }
        #expect(overall.count == geval.count, "\(geval.first ?? [:])")
        #expect(overall.allSatisfy { (1...5).contains($0) })
        #expect(overall.contains { $0 != $0.rounded() }, "probability-weighted scores: \(overall)")
        let judged = try Self.jsonLines(output.appendingPathComponent("judged.jsonl"))
        #expect(!judged.isEmpty)

        // Exports for the three services pass their format rules.
        for (service, folder) in [
            (FineTuneFormatRules.Service.fireworks, "fireworks"), (.together, "together"), (.vertex, "vertex"),
        ] {
            let train = directory.appendingPathComponent("out/quickstart/\(folder)/train.jsonl")
            let text = try String(contentsOf: train, encoding: .utf8)
            #expect(!text.isEmpty, "\(folder) train split is empty")
            #expect(
                FineTuneFormatRules.problems(in: text, for: service).isEmpty,
                "\(folder): \(FineTuneFormatRules.problems(in: text, for: service).prefix(3))")
        }

        // A rerun pays for nothing.
        let again = try KilnPipeBinary.run(
            ["run", "quickstart.yml", "--var", "llm_base_url=\(Self.chatURL)", "--json"], in: directory)
        let requests = KilnPipeBinary.jsonObjects(inLines: again.stdout).filter {
            $0["event"] as? String == "stage_finished"
        }.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        #expect(requests <= failed * 6, "only failed items are retried")
    }

    @Test func documentsWithRealEmbeddingsAndHybridSearch() throws {
        let directory = try Self.scratch("docs")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: KilnPipeBinary.repositoryRoot.appendingPathComponent("datasets/docs"),
            to: directory.appendingPathComponent("docs"))
        try """
        version: 1
        providers:
          minilm: {kind: openai, model: all-minilm-l6-v2, base_url: "\(Self.embeddingsURL)", max_concurrency: 2}
        stages:
          - {id: docs, type: ingest, paths: [docs/], chunker: {type: semantic, size: 256}}
          - {id: idx, type: index, from: docs, embeddings: {provider: minilm, batch_size: 8}}
        """.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let built = try KilnPipeBinary.run(["index", "p.yml"], in: directory)
        #expect(built.status == 0, "\(built.stdout)\(built.stderr)")
        #expect(built.stdout.contains("vectors: 13 added, 13 newly embedded"), "\(built.stdout)")
        for (query, document) in [
            ("how long do I have to return a book", "docs/store-policies.pdf"),
            ("lost gift card replacement", "docs/gift-cards.md"),
            ("when does the book club meet", "docs/events.html"), ("wrapping presents", "docs/staff-handbook.docx"),
            ("loyalty stamps", "docs/loyalty.txt"),
        ] {
            for mode in ["hybrid", "vector"] {
                let outcome = try KilnPipeBinary.run(
                    ["search", "p.yml", query, "--mode", mode, "-k", "3", "--json"], in: directory)
                let hits = try #require(
                    try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]],
                    "\(outcome.stderr)")
                #expect(
                    hits.prefix(3).contains { $0["document_id"] as? String == document },
                    "\(mode) \(query): \(hits.map { $0["document_id"] ?? "" })")
            }
        }
    }

    /// An agent against the real server: kiln-pipe offers Kiln's math tools on the wire (OpenAI `tools`), and
    /// SmolLM2's chat template has no tools, so llama.cpp answers directly. The loop takes that as the final answer:
    /// a trace without tool calls, and the judge's `tool_called` assertion says so (0) — nothing breaks, nothing
    /// is made up. Real tool calls are proven against the fake and the official MCP SDK (`Agents`).
    @Test func anAgentWhoseModelIgnoresToolsIsJudgedForIt() throws {
        let directory = try Self.scratch("agent")
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        version: 1
        name: agent
        providers:
          llm: {kind: openai, model: smollm2, base_url: "\(Self.chatURL)", api_key_env: NO_KEY, max_tokens: 40}
        task:
          instruction: Answer the arithmetic question. Use the add tool.
          output_schema: {type: object, properties: {answer: {type: number}}, required: [answer]}
        stages:
          - {id: questions, type: load, path: q.jsonl}
          - {id: answers, type: outputs, from: questions, models: [llm], tools: [math]}
          - {id: checked, type: judge, from: answers, assertions: [{type: tool_called, tool: add}]}
        """.write(to: directory.appendingPathComponent("agent.yml"), atomically: true, encoding: .utf8)
        try #"{"input": "What is 2 plus 3?"}"#.write(
            to: directory.appendingPathComponent("q.jsonl"), atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "agent.yml"], in: directory, environment: ["NO_KEY": "none"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let checked = try Self.jsonLines(directory.appendingPathComponent(".kiln-pipe/out/agent/checked.jsonl"))
        let item = try #require(checked.first)
        let trace = try #require(item["trace"] as? [[String: Any]])
        #expect(trace.map { $0["role"] as? String } == ["system", "user", "assistant"])
        #expect(item["tool_calls"] as? Int == 0)
        #expect((item["scores"] as? [String: Any])?["tool_called"] as? Int == 0)
    }
}
