import Foundation
import KilnBasics
import KilnFakeProvider
import Testing

/// An `outputs` stage with `prompts:` × `models:` × `params:`: every cell its own cache entry and its own requests,
/// items carrying `variant`, thresholds, reports and comparisons per variant.
@Suite(.serialized) struct VariantMatrix {
    static func pipeline(variants: String) -> String {
        """
        version: 1
        name: scenario
        providers:
          a: {kind: openai, model: ma, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1, temperature: 0.2}
          b: {kind: openai, model: mb, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
          judge: {kind: openai, model: j, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
        task:
          instruction: Answer the customer.
        stages:
          - {id: golden, type: load, path: golden.jsonl}
          - id: answers
            type: outputs
            from: golden
        \(variants)
          - id: judged
            type: judge
            from: answers
            provider: judge
            assertions: [{type: contains, value: "Fake answer"}]
            thresholds: {overall: "mean >= 1"}
        """
    }

    static let matrix = """
            models: [a, b]
            prompts:
              default: task
              terse: "Answer in one sentence."
            params:
              - {temperature: 0}
              - {temperature: 0.9, max_tokens: 50}
        """

    static func scenario(_ variants: String) throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline(variants: variants))
        let rows = (0..<6).map { #"{"id": "q\#($0)", "input": "Question \#($0)?"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        return scenario
    }

    /// The requests the answers were made with, as the store recorded them.
    static func recordedRequests(_ scenario: RunScenario) throws -> [JSONValue] {
        let database = try SQLiteDatabase(
            path: scenario.directory.appendingPathComponent(".kiln-pipe/state.sqlite").path)
        return try database.query("SELECT calls FROM results WHERE stage = 'answers'").flatMap { row in
            (row.first?.text.flatMap { try? JSONValue(parsing: $0) }?.arrayValue ?? []).compactMap { $0["request"] }
        }
    }

    @Test func everyCellIsItsOwnCacheEntryWithItsOwnPromptAndParameters() throws {
        let scenario = try Self.scenario(Self.matrix)
        defer { scenario.finish() }
        let plan = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(
            plan.stdout.contains("answers  outputs  48"), "2 prompts × 2 models × 2 parameter sets × 6: \(plan.stdout)")
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(scenario.fake.currentStatistics.requests == 96, "48 answers and 48 verdicts")
        let items = scenario.items(of: "judged")
        let variants = Set(items.compactMap { $0["variant"] as? String })
        #expect(
            variants == [
                "default/a/temperature=0", "default/a/temperature=0.9,max_tokens=50", "default/b/temperature=0",
                "default/b/temperature=0.9,max_tokens=50", "terse/a/temperature=0",
                "terse/a/temperature=0.9,max_tokens=50",
                "terse/b/temperature=0", "terse/b/temperature=0.9,max_tokens=50",
            ], "\(variants)")
        #expect(Set(items.compactMap { $0["id"] as? String }).count == 48, "one item per cell and input")
        let warm = try #require(items.first { $0["variant"] as? String == "terse/b/temperature=0.9,max_tokens=50" })
        let provenance = try #require(warm["provenance"] as? [String: Any])
        #expect(provenance["temperature"] as? Double == 0.9 && provenance["max_tokens"] as? Int == 50)
        #expect(provenance["prompt"] as? String == "terse" && provenance["provider"] as? String == "b")

        // What was sent: each cell's system prompt, and its parameters over the provider's.
        let answers = try Self.recordedRequests(scenario)
        #expect(answers.count == 48)
        func count(_ model: String, _ system: String, _ temperature: Double, _ maxTokens: Int?) -> Int {
            answers.filter { request in
                request["model"]?.stringValue == model
                    && request["messages"]?.arrayValue?.first?["content"]?.stringValue == system
                    && request["temperature"]?.numberValue == temperature
                    && request["max_tokens"]?.numberValue.map { Int($0) } == maxTokens
            }.count
        }
        #expect(count("ma", "Answer the customer.", 0, nil) == 6)
        #expect(count("mb", "Answer in one sentence.", 0.9, 50) == 6)
        #expect(count("ma", "Answer in one sentence.", 0, nil) == 6)

        // Thresholds and reports per variant; the best variant per score.
        #expect(first.stdout.components(separatedBy: "mean >= 1").count - 1 == 8, "\(first.stdout)")
        #expect(first.stdout.contains("best in judged: overall: "), "\(first.stdout)")
        let html = try String(
            contentsOf: scenario.directory.appendingPathComponent(".kiln-pipe/reports/scenario/judged/report.html"),
            encoding: .utf8)
        #expect(html.contains(#"<h2 id="matrix">Variants</h2>"#))
        #expect(html.contains("<th>terse/b/temperature=0.9,max_tokens=50</th>"))
        let summary = try String(
            contentsOf: scenario.directory.appendingPathComponent(".kiln-pipe/reports/scenario/judged/summary.md"),
            encoding: .utf8)
        #expect(summary.contains("Best per score: overall: "))

        let rerun = try scenario.run()
        #expect(rerun.status == 0)
        #expect(scenario.fake.currentStatistics.requests == 96, "a rerun of the matrix makes no call")
    }

    @Test func aMatrixAroundAnEarlierStagePaysOnlyForItsNewCells() throws {
        let scenario = try Self.scenario("    models: [a]")
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.requests == 12)
        try scenario.editPipeline {
            $0.replacingOccurrences(
                of: "    models: [a]", with: "    models: [a]\n    prompts: {default: task, terse: \"Be brief.\"}")
        }
        let widened = try scenario.run()
        #expect(widened.status == 0, "\(widened.stdout)\(widened.stderr)")
        // The default cell asks what the stage asked before: served from the store; only `terse` is new.
        #expect(widened.stdout.contains("answers  outputs  12     6       6"), "\(widened.stdout)")
        #expect(scenario.fake.currentStatistics.requests == 12 + 6 + 6)
        // Compared with the run before the matrix: the items now belong to their variants.
        let compared = try KilnPipeBinary.run(["compare", "p.yml", "--json"], in: scenario.directory)
        let document = try #require(
            JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as? [String: Any], "\(compared.stderr)")
        let items = try #require(document["items"] as? [[String: Any]])
        #expect(items.filter { $0["change"] as? String == "appeared" }.count == 12)
        #expect(items.filter { $0["change"] as? String == "disappeared" }.count == 6)
        #expect(Set(items.compactMap { $0["model"] as? String }) == ["a", "default/a", "terse/a"])
    }
}
