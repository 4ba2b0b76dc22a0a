import Foundation
import KilnBasics
import KilnFakeProvider
import Testing

/// A data row's own checks (`assert`, `assert_<type>` columns) and criteria (`rubric`), as promptfoo's per-test
/// assertions: read and checked at load, scored by the judge beside the stage's, gated by thresholds.
@Suite(.serialized) struct RowAssertionChecks {
    static let pipeline = """
        version: 1
        name: scenario
        providers:
          model: {kind: openai, model: m, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
          judge: {kind: openai, model: j, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
        task:
          instruction: Answer the customer.
        stages:
          - {id: golden, type: load, path: golden.FORMAT}
          - {id: answers, type: outputs, from: golden, models: [model]}
          - id: judged
            type: judge
            from: answers
            provider: judge
            assertions: [{type: contains, value: "Fake answer"}]
            thresholds: {row_contains: "pass_rate >= 0.9"}
        """

    static func scenario(_ format: String, _ rows: String) throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline.replacingOccurrences(of: "FORMAT", with: format))
        try rows.write(
            to: scenario.directory.appendingPathComponent("golden.\(format)"), atomically: true, encoding: .utf8)
        return scenario
    }

    static func scores(_ scenario: RunScenario) -> [String: [String: Double]] {
        var scores: [String: [String: Double]] = [:]
        for item in scenario.items(of: "judged") {
            guard let id = item["source_id"] as? String else { continue }
            scores[id] = (item["scores"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        return scores
    }

    @Test func csvColumnsAndJSONListsAreScoredPerRowAndGated() throws {
        let csv = try Self.scenario(
            "csv",
            """
            id,input,assert_contains,assert_not_contains,rubric
            a,Where is my order?,order,refund,Mention the tracking link.
            b,Can I return a book?,return,,
            c,Do you sell gift cards?,vouchers,,
            """)
        defer { csv.finish() }
        let run = try csv.run()
        #expect(run.status == 1, "c's answer lacks 'vouchers': row_contains 2/3 < 0.9: \(run.stdout)\(run.stderr)")
        let scores = Self.scores(csv)
        #expect(
            scores["a"] == [
                "contains": 1, "row_contains": 1, "row_not_contains": 1, "overall": scores["a"]?["overall"] ?? -1,
            ])
        #expect(scores["b"]?["row_contains"] == 1 && scores["b"]?["row_not_contains"] == nil)
        #expect(scores["c"]?["row_contains"] == 0)
        #expect(run.stdout.contains("✗  judged  model  row_contains  pass_rate >= 0.9  0.667"), "\(run.stdout)")
        let item = try #require(csv.items(of: "judged").first { $0["source_id"] as? String == "c" })
        let failures = item["assertion_failures"] as? [String: String]
        #expect(failures?["row_contains"] == "does not contain 'vouchers'", "\(item)")
        let summary = try String(
            contentsOf: csv.directory.appendingPathComponent(".kiln-pipe/reports/scenario/judged/summary.json"),
            encoding: .utf8)
        #expect(summary.contains(#""row_contains":"pass_fail""#), "the reports know the row's scores")

        // The row's rubric reaches the judge; the other rows' verdicts keep their keys.
        let database = try SQLiteDatabase(path: csv.directory.appendingPathComponent(".kiln-pipe/state.sqlite").path)
        let judged = try database.query("SELECT calls FROM results WHERE stage = 'judged'").compactMap {
            $0.first?.text
        }
        #expect(
            judged.filter { $0.contains("criteria_for_this_input") && $0.contains("Mention the tracking link.") }.count
                == 1)
        let requests = csv.fake.currentStatistics.requests
        try """
        id,input,assert_contains,assert_not_contains,rubric
        a,Where is my order?,order,refund,Mention the tracking link.
        b,Can I return a book?,return,,Say how many days.
        c,Do you sell gift cards?,vouchers,,
        """.write(to: csv.directory.appendingPathComponent("golden.csv"), atomically: true, encoding: .utf8)
        #expect(try csv.run().status == 1)
        #expect(csv.fake.currentStatistics.requests == requests + 1, "only b's verdict is asked again")
    }

    @Test func aRowsAssertListIsReadAndABadOneIsABadRowWithItsPlace() throws {
        let jsonl = try Self.scenario(
            "jsonl",
            """
            {"id": "a", "input": "Where is my order?", "assert": [{"type": "contains", "value": "order"}, \
            {"type": "regex", "pattern": "^Fake"}, {"type": "contains", "value": "Where", "name": "row_echo"}]}
            {"id": "b", "input": "Can I pay by card?", "assert": "{\\"type\\": \\"equals\\", \\"value\\": \\"no\\"}"}
            """)
        defer { jsonl.finish() }
        #expect(try jsonl.run(["--allow-failures"]).status == 0)
        let scores = Self.scores(jsonl)
        #expect(scores["a"]?["row_contains"] == 1 && scores["a"]?["row_regex"] == 1 && scores["a"]?["row_echo"] == 1)
        #expect(scores["b"]?["row_equals"] == 0)

        try """
        {"id": "a", "input": "Where is my order?"}
        {"id": "b", "input": "Can I pay by card?", "assert": [{"type": "contians", "value": "card"}]}
        """.write(to: jsonl.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        let bad = try jsonl.run()
        #expect(bad.status == 2, "\(bad.stdout)\(bad.stderr)")
        #expect(
            bad.stderr.contains(
                "golden.jsonl:2: the row asks for assertion type 'contians' (did you mean 'contains'?)"),
            "\(bad.stderr)")
    }
}

/// The `similar` assertion: cosine similarity of the output's embedding to the reference's, through the
/// embeddings provider, each text embedded once and kept.
@Suite(.serialized) struct SimilarAssertion {
    @Test func scoresByCosineSimilarityAtItsThresholdAndNeverEmbedsATextTwice() throws {
        let scenario = try RunScenario(
            pipeline: """
                version: 1
                name: scenario
                providers:
                  emb: {kind: openai, model: e, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 1}
                stages:
                  - {id: answers, type: load, path: answers.jsonl}
                  - id: judged
                    type: judge
                    from: answers
                    assertions: [{type: similar, embeddings: emb, threshold: 0.95}]
                    thresholds: {similar: "pass_rate >= 0.5"}
                """)
        defer { scenario.finish() }
        try """
        {"id": "same", "input": "q1", "output": "Your order ships today.", "expected": "Your order ships today."}
        {"id": "other", "input": "q2", "output": "We sell gift cards.", "expected": "Returns take 30 days."}
        {"id": "none", "input": "q3", "output": "Hello."}
        """.write(to: scenario.directory.appendingPathComponent("answers.jsonl"), atomically: true, encoding: .utf8)
        let plan = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(plan.stdout.contains("not counted: the embedding calls of its similar assertions"), "\(plan.stdout)")
        let run = try scenario.run()
        #expect(run.status == 1, "1 of 3 passes: \(run.stdout)\(run.stderr)")
        var items: [String: [String: Any]] = [:]
        for item in scenario.items(of: "judged") { items[item["id"] as? String ?? ""] = item }
        let same = try #require(items["same"])
        #expect((same["scores"] as? [String: Any])?["similar"] as? Int == 1)
        #expect(abs(((same["similarity"] as? [String: Double])?["similar"] ?? 0) - 1) < 1e-6)
        let other = try #require(items["other"])
        let similarity = try #require((other["similarity"] as? [String: Double])?["similar"])
        #expect(similarity < 0.95 && (other["scores"] as? [String: Any])?["similar"] as? Int == 0)
        let reason = (other["assertion_failures"] as? [String: String])?["similar"] ?? ""
        #expect(reason == "similarity \(String(format: "%.3f", similarity)) is below 0.950", "\(reason)")
        let none = try #require(items["none"])
        #expect(
            (none["assertion_failures"] as? [String: String])?["similar"]
                == "no reference to compare with: set value or load an expected field")
        // Five distinct texts, each embedded once; a rerun embeds nothing.
        let requests = scenario.fake.currentStatistics.requests
        #expect(requests >= 1 && requests <= 3, "one call per item at most: \(requests)")
        #expect(try scenario.run().status == 1)
        #expect(scenario.fake.currentStatistics.requests == requests, "the rerun embedded again")
    }
}
