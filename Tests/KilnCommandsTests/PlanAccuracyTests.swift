import Foundation
import KilnBasics
import Testing

/// `plan` forecasts what a run will cost: on the shipped pipelines and on a two-model synthetic-data pipeline, run
/// fresh against the fake with prices set, the actual cost falls inside the printed range and the midpoint is
/// within 35 % of it.
@Suite struct PlanAccuracy {
    /// A two-model pipeline: topics → inputs → outputs (2 models × 2 samples) → judge → split → export.
    static let twoModels = """
        version: 1
        name: two
        providers:
          gen: {kind: fake, model: fake-gen, max_tokens: 400}
          small: {kind: fake, model: fake-small, max_tokens: 300}
          large: {kind: fake, model: fake-large, max_tokens: 600}
          judge: {kind: fake, model: fake-judge, max_tokens: 800}
        task:
          instruction: Reply to the customer of a bookshop. Be brief.
          requirements:
            - {name: helpful, instruction: The reply resolves the request.}
        stages:
          - {id: topics, type: topics, provider: gen, root: bookshop support, depth: 2, breadth: 4}
          - {id: inputs, type: inputs, from: topics, provider: gen, per_topic: 3}
          - {id: answers, type: outputs, from: inputs, models: [small, large], samples: 2}
          - {id: judged, type: judge, from: answers, provider: judge, method: llm_as_judge}
          - {id: split, type: split, from: judged, preset: train_test}
          - {id: ft, type: export, from: split, target: fireworks, strategy: final_only, out: out/ft}
        """

    /// The pipeline with a price on every provider ($3 / $15 per million tokens in / out).
    static func priced(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let prices = "input_price_per_million: 3, output_price_per_million: 15"
            if line.contains("{kind: fake,") {
                lines.append(line.replacingOccurrences(of: "{kind: fake,", with: "{kind: fake, \(prices),"))
            } else if let range = line.range(of: "kind: "), line[..<range.lowerBound].allSatisfy(\.isWhitespace),
                line.hasSuffix("fake") || line.hasSuffix("${llm_kind}")
            {
                let indent = String(line[..<range.lowerBound])
                lines += [String(line), indent + "input_price_per_million: 3", indent + "output_price_per_million: 15"]
            } else {
                lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test(arguments: [
        ("evals", [String]()), ("golden-answers", []), ("judge-calibration", []), ("docs", []),
        ("quickstart", ["--var", "llm_kind=fake", "--var", "llm_base_url="]), ("two", []),
    ])
    func theActualCostFallsInsideThePlannedRange(_ name: String, _ variables: [String]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-plan-\(UUID().uuidString)")
        let pipelines = directory.appendingPathComponent("pipelines")
        try FileManager.default.createDirectory(at: pipelines, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The shipped pipelines read ../datasets.
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("datasets"),
            withDestinationURL: KilnPipeBinary.repositoryRoot.appendingPathComponent("datasets"))
        let source =
            name == "two"
            ? Self.twoModels
            : try String(
                contentsOf: KilnPipeBinary.repositoryRoot.appendingPathComponent("pipelines/\(name).yml"),
                encoding: .utf8)
        let file = "pipelines/\(name).yml"
        try Self.priced(source).write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)

        let plan = try KilnPipeBinary.run(["plan", file, "--json"] + variables, in: directory)
        #expect(plan.status == 0, "\(plan.stderr)")
        let forecast = try JSONValue(parsing: plan.stdout)
        let low = try #require(forecast["cost_usd"]?["low"]?.numberValue)
        let high = try #require(forecast["cost_usd"]?["high"]?.numberValue)
        let run = try KilnPipeBinary.run(["run", file, "--quiet"] + variables, in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let status = try KilnPipeBinary.run(["status", file, "--json"] + variables, in: directory)
        let actual =
            (try JSONValue(parsing: status.stdout))["stages"]?.arrayValue?.compactMap {
                $0["cost_usd"]?.numberValue
            }.reduce(0, +) ?? 0
        #expect(actual > 0, "the run cost something: \(status.stdout)")
        #expect(low <= actual && actual <= high, "\(name): planned $\(low)–$\(high), spent $\(actual)")
        let midpoint = (low + high) / 2
        #expect(abs(midpoint - actual) <= 0.35 * actual, "\(name): midpoint $\(midpoint), spent $\(actual)")
    }
}
