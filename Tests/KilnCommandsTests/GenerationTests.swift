import Foundation
import KilnFakeProvider
import Testing

/// The SDG stages end to end: topics -> inputs -> outputs against the fake provider, faults included.
@Suite(.serialized) struct SyntheticDataGeneration {
    static func pipeline(
        depth: Int = 2, breadth: Int = 6, perTopic: Int = 8, models: String = "[a, b]", emit: String = "leaves",
        inputSchema: String = "", seeds: String = "[Refunds]"
    ) -> String {
        """
        version: 1
        name: scenario
        providers:
          a: {kind: openai, model: gen-a, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: 16, \
          timeout_s: 1, max_retries: 6}
          b: {kind: openai, model: gen-b, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: 16, \
          timeout_s: 1, max_retries: 6}
        task:
          instruction: Reply to customer support messages for a bookshop.
        \(inputSchema)
          output_schema: {type: object, properties: {reply: {type: string}, escalate: {type: boolean}}, \
          required: [reply, escalate]}
        stages:
          - {id: topics, type: topics, provider: a, root: customer support, depth: \(depth), breadth: \
          \(breadth), seed_topics: \(seeds), emit: \(emit)}
          - {id: inputs, type: inputs, from: topics, provider: a, per_topic: \(perTopic), dedup: normalized}
          - {id: outputs, type: outputs, from: inputs, models: \(models)}
        """
    }

    @Test func depthTwoBreadthSixEightInputsTwoModelsGives576SchemaValidOutputsDespiteFaultsThenNoCall() throws {
        let faults: [FaultRule] = [
            .init(kind: .rateLimit, percent: 3), .init(kind: .serverError, percent: 10),
            .init(kind: .malformed, percent: 5),
            .init(kind: .schemaInvalid, percent: 10), .init(kind: .reset, percent: 5),
        ]
        let scenario = try RunScenario(pipeline: Self.pipeline(), faults: faults)
        defer { scenario.finish() }
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.faults.values.reduce(0, +) > 30, "faults were injected: \(statistics.faults)")
        let topics = scenario.items(of: "topics")
        #expect(topics.count == 36, "6 × 6 leaves")
        let firstLevel = topics.compactMap { ($0["topic_path"] as? [String])?.first }
        #expect(
            Set(firstLevel).count == 6 && firstLevel.filter { $0 == "Refunds" }.count == 6,
            "the seed topic is kept as one of the six")
        #expect(scenario.items(of: "inputs").count == 288)
        let outputs = scenario.items(of: "outputs")
        #expect(outputs.count == 576)
        for output in outputs {
            let answer = output["output"] as? [String: Any]
            #expect(answer?["reply"] is String && answer?["escalate"] is Bool, "schema-valid: \(output)")
        }
        let provenance = try #require(outputs.first?["provenance"] as? [String: Any])
        #expect((outputs.first?["topic_path"] as? [String])?.count == 2, "outputs keep their topic path")
        for field in [
            "stage", "provider", "kind", "model", "temperature", "top_p", "seed", "structured_output", "prompt_version",
            "input_tokens", "output_tokens", "cost_usd", "latency_ms",
        ] {
            #expect(provenance[field] != nil, "provenance has \(field)")
        }
        #expect(Set(outputs.compactMap { $0["model"] as? String }) == ["a", "b"], "every input by both models")
        #expect(statistics.duplicateSuccesses == 0)
        let second = try scenario.run()
        #expect(second.status == 0)
        #expect(scenario.fake.currentStatistics.requests == statistics.requests, "a rerun makes zero provider calls")
    }

    @Test func emitAllFlowsEveryNodeAndStructuredInputsMatchTheInputSchema() throws {
        let schema =
            "  input_schema: {type: object, properties: {message: {type: string}, order_id: {type: integer}}, "
            + "required: [message, order_id]}"
        let scenario = try RunScenario(
            pipeline: Self.pipeline(
                depth: 2, breadth: 3, perTopic: 2, models: "[a]", emit: "all", inputSchema: schema, seeds: "[]"))
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(scenario.items(of: "topics").count == 3 + 9, "emit: all passes on inner nodes too")
        let inputs = scenario.items(of: "inputs")
        #expect(inputs.count == 12 * 2)
        #expect(inputs.allSatisfy { (($0["input"] as? [String: Any])?["order_id"]) is Int })
    }

    @Test func changingTheTopicGuidanceRegeneratesTheTreeAndEverythingBelowButNotOtherStages() throws {
        let scenario = try RunScenario(pipeline: Self.pipeline(depth: 1, breadth: 3, perTopic: 2, models: "[a]"))
        defer { scenario.finish() }
        _ = try scenario.run()
        let calls = scenario.fake.currentStatistics.requests
        #expect(calls == 1 + 3 + 6, "one expansion (2 new topics next to the seed), three input calls, six outputs")
        try scenario.editPipeline { $0.replacingOccurrences(of: "per_topic: 2,", with: "per_topic: 3,") }
        _ = try scenario.run()
        #expect(
            scenario.fake.currentStatistics.requests == calls + 3 + 9,
            "inputs and outputs recomputed, the tree served from the store")
    }
}

@Suite(.serialized) struct GenerationPlanAndStatus {
    @Test func planAndStatusFollowTheTreeThroughInputsAndOutputs() throws {
        let scenario = try RunScenario(
            pipeline: SyntheticDataGeneration.pipeline(depth: 2, breadth: 3, perTopic: 2, models: "[a]", seeds: "[]"))
        defer { scenario.finish() }
        let before = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(
            squeezed(before.stdout).contains("topics topics 4 0 4"), "root + 3 children to expand: \(before.stdout)")
        #expect(squeezed(before.stdout).contains("inputs inputs 9 0 9"), "one call per leaf: \(before.stdout)")
        #expect(squeezed(before.stdout).contains("outputs outputs 18 0 18"), "two inputs per leaf")
        #expect(scenario.fake.currentStatistics.requests == 0)
        _ = try scenario.run(["--only", "topics"])
        let middle = try KilnPipeBinary.run(["plan", "p.yml"], in: scenario.directory)
        #expect(squeezed(middle.stdout).contains("topics topics 4 4 0"), "\(middle.stdout)")
        #expect(squeezed(middle.stdout).contains("inputs inputs 9 0 9"), "\(middle.stdout)")
        _ = try scenario.run()
        let status = try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory)
        #expect(squeezed(status.stdout).contains("topics topics done 4 0 0"), "\(status.stdout)")
        #expect(squeezed(status.stdout).contains("inputs inputs done 9 0 0"))
        #expect(squeezed(status.stdout).contains("outputs outputs done 18 0 0"))
    }
}
