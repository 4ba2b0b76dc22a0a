import Foundation
import KilnFakeProvider

/// A pipeline in a temporary folder, pointed at a fake provider this test process runs, so the test can read
/// what the provider saw while `kiln-pipe` runs as a child process.
struct RunScenario {
    let directory: URL
    let fake: FakeProvider

    init(
        rows: Int = 40, models: [String] = ["a"], samples: Int = 1, faults: [FaultRule] = [], latencyMS: Int = 0,
        maxConcurrency: Int = 8, maxRetries: Int = 5, extraProvider: String = "", schema: Bool = true,
        maxCost: Double? = nil,
        rpm: Int? = nil, hiddenRequestsPerSecond: Int? = nil, extraStages: String = ""
    ) throws {
        fake = FakeProvider(
            config: FakeProviderConfig(
                latencyMS: latencyMS, faults: faults, hiddenRequestsPerSecond: hiddenRequestsPerSecond, hangSeconds: 5))
        try fake.start()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = ""
        for index in 0..<rows {
            lines += #"{"question": "Where is order \#(index)?", "answer": "day \#(index % 7)"}"# + "\n"
        }
        try lines.write(to: directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        let providers = models.map {
            "  \($0): {kind: openai, model: model-\($0), base_url: \"\(fake.baseURL)\", api_key_env: FAKE_KEY, "
                + "max_concurrency: \(maxConcurrency), max_retries: \(maxRetries), timeout_s: "
                + "1,\(rpm.map { " rpm: \($0)," } ?? "") input_price_per_million: 1000, "
                + "output_price_per_million: 2000}"
        }.joined(separator: "\n")
        let pipeline = """
            version: 1
            name: scenario
            \(maxCost.map { "max_cost_usd: \($0)" } ?? "")
            providers:
            \(providers)
            \(extraProvider)
            task:
              instruction: Answer the customer.
            \(schema ? "  output_schema: {type: object, properties: {reply: {type: string}}, required: [reply]}" : "")
            stages:
              - {id: golden, type: load, path: golden.jsonl, fields: {input: question, expected: answer}}
              - {id: answers, type: outputs, from: golden, models: [\(models.joined(separator: ", "))], \
              samples: \(samples)}
            \(extraStages)
            """
        try pipeline.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
    }

    /// A scenario running `pipeline`, in which `BASE_URL` stands for the fake provider's address.
    init(pipeline: String, faults: [FaultRule] = [], latencyMS: Int = 0) throws {
        try self.init(
            pipeline: pipeline, fake: FakeProviderConfig(latencyMS: latencyMS, faults: faults, hangSeconds: 5))
    }

    /// A scenario running `pipeline` against a fake configured as `config`.
    init(pipeline: String, fake config: FakeProviderConfig) throws {
        fake = FakeProvider(config: config)
        try fake.start()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try pipeline.replacingOccurrences(of: "BASE_URL", with: fake.baseURL)
            .write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
    }

    /// The items a stage wrote, parsed.
    func items(of stage: String) -> [[String: Any]] {
        KilnPipeBinary.jsonObjects(inFile: directory.appendingPathComponent(".kiln-pipe/out/scenario/\(stage).jsonl"))
    }

    func run(_ extra: [String] = [], key: String = "secret-test-key") throws -> KilnPipeBinary.Outcome {
        try KilnPipeBinary.run(["run", "p.yml", "--quiet"] + extra, in: directory, environment: ["FAKE_KEY": key])
    }

    var outputLines: [String] {
        let file = directory.appendingPathComponent(".kiln-pipe/out/scenario/answers.jsonl")
        return ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Rewrites the pipeline file with `change` applied to its text.
    func editPipeline(_ change: (String) -> String) throws {
        let file = directory.appendingPathComponent("p.yml")
        try change(try String(contentsOf: file, encoding: .utf8)).write(to: file, atomically: true, encoding: .utf8)
    }

    func finish() {
        fake.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
