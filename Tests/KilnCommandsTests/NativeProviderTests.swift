import Foundation
import KilnFakeProvider
import Testing

/// One pipeline runs unchanged against the fake speaking OpenAI's, Anthropic's and Gemini's own APIs: structured
/// answers, an LLM judge with G-Eval logprobs where the API has them, retries on injected faults, resume with
/// no call, and the run-stopping errors each API reports in its own way.
@Suite(.serialized) struct NativeProviders {
    /// The provider line for each API; `BASE_URL` is the fake's `/v1` address.
    static let providers: [(kind: String, line: String)] = [
        (
            "openai",
            #"m: {kind: openai, model: fake-gpt, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: "#
                + #"4, max_retries: 6}"#
        ),
        (
            "anthropic",
            #"m: {kind: anthropic, model: claude-fake, base_url: "BASE_URL", api_key_env: FAKE_KEY, "#
                + #"max_concurrency: 4, max_retries: 6}"#
        ),
        (
            "gemini",
            #"m: {kind: gemini, model: gemini-fake, base_url: "BASE_URLbeta", api_key_env: FAKE_KEY, "#
                + #"max_concurrency: 4, max_retries: 6}"#
        ),
    ]

    static func pipeline(provider: String, judge: String) -> String {
        """
        version: 1
        name: scenario
        providers:
          \(provider)
        task:
          instruction: Answer the customer.
          output_schema: {type: object, properties: {reply: {type: string}, priority: {type: integer}}, \
          required: [reply, priority]}
        stages:
          - {id: golden, type: load, path: golden.jsonl, fields: {input: question}}
          - {id: answers, type: outputs, from: golden, models: [m]}
          - {id: judged, type: judge, from: answers, provider: m, method: \(judge)}
        """
    }

    static func writeRows(_ count: Int, in scenario: RunScenario) throws {
        let rows = (0..<count).map { #"{"question": "Where is order \#($0)?"}"# }.joined(separator: "\n") + "\n"
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
    }

    @Test(arguments: providers)
    func theSamePipelineRunsAgainstEachAPI(kind: String, line: String) throws {
        // Anthropic returns no logprobs: g_eval falls back to llm_as_judge there (validate warns about it).
        let judge = kind == "anthropic" ? "llm_as_judge" : "g_eval"
        let scenario = try RunScenario(
            pipeline: Self.pipeline(provider: line, judge: judge),
            faults: [
                FaultRule(kind: .rateLimit, percent: 20), FaultRule(kind: .serverError, percent: 20),
                FaultRule(kind: .schemaInvalid, percent: 20),
            ])
        defer { scenario.finish() }
        try Self.writeRows(12, in: scenario)
        let first = try scenario.run()
        #expect(first.status == 0, "\(kind): \(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 12, "\(kind)")
        for answer in answers {
            let output = answer["output"] as? [String: Any]
            #expect(output?["reply"] is String && output?["priority"] is Int, "\(kind): \(answer)")
        }
        let judged = scenario.items(of: "judged")
        #expect(judged.count == 12, "\(kind)")
        let scores = judged.compactMap { ($0["scores"] as? [String: Any])?["overall"] as? Double }
        #expect(scores.count == 12, "\(kind): every item has an overall score")
        if judge == "g_eval" {
            #expect(
                scores.contains { $0 != $0.rounded() },
                "\(kind): G-Eval weights the score tokens by their probabilities")
        }
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.duplicateSuccesses == 0, "\(kind)")
        #expect(statistics.faults.values.reduce(0, +) > 0, "\(kind): faults were injected and retried")
        let requests = statistics.requests
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.requests == requests, "\(kind): a rerun makes no call")
    }

    /// Faults that stop a run, the exit code and what the message must say.
    static let stoppingFaults: [(fault: FaultKind, status: Int32, says: String)] = [
        (.unauthorized, 2, "FAKE_KEY was rejected by provider 'm'"),
        (.quota, 4, "quota"),
    ]

    @Test(arguments: providers, stoppingFaults)
    func runStoppingErrorsStopTheRunInEveryAPI(
        provider: (kind: String, line: String), stopping: (fault: FaultKind, status: Int32, says: String)
    ) throws {
        let scenario = try RunScenario(
            pipeline: Self.pipeline(provider: provider.line, judge: "llm_as_judge"),
            faults: [FaultRule(kind: stopping.fault, percent: 100)])
        defer { scenario.finish() }
        try Self.writeRows(6, in: scenario)
        let outcome = try scenario.run()
        #expect(outcome.status == stopping.status, "\(provider.kind): \(outcome.stderr)")
        #expect(outcome.stderr.contains(stopping.says), "\(provider.kind): \(outcome.stderr)")
        #expect(!outcome.stderr.contains("secret-test-key"), "\(provider.kind): the key is never printed")
    }
}
