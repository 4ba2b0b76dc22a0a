import Foundation
import KilnBasics
import KilnFakeProvider
import Testing

/// `batch: true` sends a stage's first attempts through the provider's batch API (OpenAI Batch, Anthropic Message
/// Batches), at the batch price; answers are validated like live ones, and what a batch did not answer well goes
/// on live. A submission is saved before it is sent, so a killed run polls the same batch again.
@Suite(.serialized) struct BatchRuns {
    static let kinds = ["openai", "anthropic"]

    static func pipeline(kind: String, rows: Int = 30, judge: Bool = false) -> String {
        """
        version: 1
        name: scenario
        providers:
          m: {kind: \(kind), model: fake-model, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: \
          4, max_retries: 6, batch: true, batch_poll_max_s: 1, input_price_per_million: 1000, \
          output_price_per_million: 2000}
        task:
          instruction: Answer the customer.
          output_schema: {type: object, properties: {reply: {type: string}}, required: [reply]}
        stages:
          - {id: golden, type: load, path: golden.jsonl, fields: {input: question}}
          - {id: answers, type: outputs, from: golden, models: [m]}
        \(judge ? "  - {id: judged, type: judge, from: answers, provider: m, method: llm_as_judge}" : "")
        """
    }

    static func scenario(
        kind: String, rows: Int = 30, judge: Bool = false, fake: FakeProviderConfig
    ) throws -> RunScenario {
        let scenario = try RunScenario(pipeline: pipeline(kind: kind, judge: judge), fake: fake)
        try NativeProviders.writeRows(rows, in: scenario)
        return scenario
    }

    @Test(arguments: kinds)
    func aBatchedStageIsSubmittedOnceAndWhatItAnswersBadlyGoesOnLive(kind: String) throws {
        let scenario = try Self.scenario(
            kind: kind, rows: 40, judge: true,
            fake: FakeProviderConfig(
                faults: [FaultRule(kind: .schemaInvalid, percent: 20), FaultRule(kind: .serverError, percent: 10)],
                batchSeconds: 0.5, batchExpiredPercent: 10))
        defer { scenario.finish() }
        let first = try scenario.run()
        #expect(first.status == 0, "\(kind): \(first.stdout)\(first.stderr)")
        let answers = scenario.items(of: "answers")
        #expect(answers.count == 40, "\(kind)")
        #expect(
            answers.allSatisfy { ($0["output"] as? [String: Any])?["reply"] is String },
            "\(kind): every answer was validated")
        #expect(scenario.items(of: "judged").count == 40, "\(kind)")
        let statistics = scenario.fake.currentStatistics
        #expect(
            statistics.batchRequests == 80,
            "\(kind): each of the 40 answers and 40 verdicts went into a batch exactly once")
        #expect(statistics.batchSubmissions >= 2, "\(kind): one batch per stage at least")
        #expect(
            statistics.requests > 0 && statistics.requests < 40,
            "\(kind): only the invalid, failed and expired lines went on live")
        #expect(statistics.duplicateSuccesses == 0, "\(kind): nothing was paid twice")
        // An answer taken from a batch on its first attempt costs half the live price.
        let batched = answers.compactMap { $0["provenance"] as? [String: Any] }.filter { $0["requests"] as? Int == 1 }
        #expect(!batched.isEmpty)
        for provenance in batched {
            let input = Double(provenance["input_tokens"] as? Int ?? 0)
            let output = Double(provenance["output_tokens"] as? Int ?? 0)
            let cost = provenance["cost_usd"] as? Double ?? -1
            #expect(abs(cost - 0.5 * (input * 1000 + output * 2000) / 1_000_000) < 1e-9, "\(kind): \(provenance)")
        }

        let rerun = try scenario.run()
        #expect(rerun.status == 0)
        #expect(scenario.fake.currentStatistics == statistics, "\(kind): a rerun submits nothing and calls nothing")
        let status = try Self.status(of: scenario)
        #expect(status.contains("batches, newest first:") && status.contains(" ended "), "\(status)")

        // --fresh asks for new answers: a new batch, not the answers of the one that ended.
        #expect(try scenario.run(["--fresh-stage", "answers", "--only", "answers"]).status == 0)
        #expect(scenario.fake.currentStatistics.batchRequests == 120, "\(kind)")
    }

    /// Waits until the fake has accepted `count` batches, for at most `seconds`.
    static func waitForSubmissions(_ count: Int, of fake: FakeProvider, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if fake.currentStatistics.batchSubmissions >= count { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    static func start(_ arguments: [String], in scenario: RunScenario) throws -> Process {
        try KilnPipeBinary.start(arguments, in: scenario.directory, environment: ["FAKE_KEY": "k"])
    }

    /// A rerun finishes the answers from the one batch submitted before: no second submission, no live call.
    static func expectRerunCollectsTheFirstBatch(_ scenario: RunScenario, kind: String) throws {
        let rerun = try scenario.run()
        #expect(rerun.status == 0, "\(kind): \(rerun.stderr)")
        #expect(scenario.items(of: "answers").count == 30)
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.batchSubmissions == 1, "\(kind): the rerun used the batch submitted before")
        #expect(
            statistics.requests == 0 && statistics.duplicateSuccesses == 0, "\(kind): no live call, nothing paid twice")
    }

    @Test(arguments: kinds)
    func aRunKilledWhileItsBatchIsPendingPollsTheSameBatchAgain(kind: String) throws {
        let scenario = try Self.scenario(kind: kind, fake: FakeProviderConfig(batchSeconds: 5))
        defer { scenario.finish() }
        let process = try Self.start(["run", "p.yml", "--quiet"], in: scenario)
        #expect(Self.waitForSubmissions(1, of: scenario.fake), "\(kind): the batch was submitted")
        Thread.sleep(forTimeInterval: 0.5)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "\(kind): killed while polling")

        let status = try Self.status(of: scenario)
        #expect(status.contains(" submitted ") && status.contains("still with the provider"), "\(kind): \(status)")
        try Self.expectRerunCollectsTheFirstBatch(scenario, kind: kind)
    }

    @Test func ctrlCWhileABatchIsPendingExits130AndARerunCollectsIt() throws {
        let scenario = try Self.scenario(kind: "openai", fake: FakeProviderConfig(batchSeconds: 4))
        defer { scenario.finish() }
        let process = try Self.start(["run", "p.yml", "--quiet"], in: scenario)
        #expect(Self.waitForSubmissions(1, of: scenario.fake))
        let started = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(Date().timeIntervalSince(started) < 3, "a pending batch is not waited for: it stays with the provider")
        #expect(try scenario.run().status == 0)
        #expect(scenario.items(of: "answers").count == 30)
        #expect(scenario.fake.currentStatistics.batchSubmissions == 1)
    }

    /// A finished batched run whose store is then rewritten as a run killed at another moment would have left it:
    /// the answers' results gone, and `statements` applied to its batch tables.
    static func finishedRun(kind: String, thenStore statements: String) throws -> RunScenario {
        let scenario = try Self.scenario(kind: kind, fake: FakeProviderConfig(batchSeconds: 0.3))
        #expect(try scenario.run().status == 0)
        let database = try SQLiteDatabase(
            path: scenario.directory.appendingPathComponent(".kiln-pipe/state.sqlite").path)
        try database.execute("DELETE FROM results WHERE stage = 'answers';\n" + statements)
        return scenario
    }

    /// What `kiln-pipe status` prints for the scenario.
    static func status(of scenario: RunScenario) throws -> String {
        try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory, environment: ["FAKE_KEY": "k"]).stdout
    }

    /// Killed after saving a submission and before hearing back: the provider is asked whether it has that batch
    /// (OpenAI by the key in its metadata, Anthropic by its time and size) before anything is submitted again.
    @Test(arguments: kinds)
    func aSubmissionSavedButNeverConfirmedIsFoundAtTheProvider(kind: String) throws {
        let scenario = try Self.finishedRun(
            kind: kind,
            thenStore: "UPDATE batches SET state = 'submitting', provider_batch_id = NULL, provider_status = NULL;")
        defer { scenario.finish() }
        try Self.expectRerunCollectsTheFirstBatch(scenario, kind: kind)
    }

    @Test func aSubmissionThatNeverReachedTheProviderIsSubmittedAgain() throws {
        // The provider knows no batch under this key: the save happened, the POST did not.
        let scenario = try Self.finishedRun(
            kind: "openai",
            thenStore: """
                UPDATE batches SET key = 'lost', state = 'submitting', provider_batch_id = NULL, provider_status = NULL;
                UPDATE batch_requests SET batch_key = 'lost';
                """)
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        #expect(scenario.items(of: "answers").count == 30)
        #expect(scenario.fake.currentStatistics.batchSubmissions == 2)
        let status = try Self.status(of: scenario)
        #expect(status.contains("never reached the provider"), "\(status)")
    }

    /// A saved batch the provider no longer knows (deleted, archived) is dropped and its calls go on live; polling
    /// errors that can pass (5xx, timeouts) never drop a batch.
    @Test func aBatchTheProviderNoLongerKnowsIsDroppedAndItsCallsGoLive() throws {
        let scenario = try Self.finishedRun(
            kind: "openai", thenStore: "UPDATE batches SET state = 'submitted', provider_batch_id = 'batch_9999';")
        defer { scenario.finish() }
        let rerun = try scenario.run()
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(scenario.items(of: "answers").count == 30)
        #expect(scenario.fake.currentStatistics.requests == 30, "every call went on live")
        let status = try Self.status(of: scenario)
        #expect(status.contains("polling failed") && status.contains("no batch batch_9999"), "\(status)")
    }

    /// Errors about the whole batch: a rejected key stops the run (exit 2) naming the variable; a server without
    /// a batch API fails the items with the provider's answer and says what to change.
    @Test(arguments: kinds)
    func aRejectedKeyStopsABatchedRun(kind: String) throws {
        let scenario = try Self.scenario(
            kind: kind, fake: FakeProviderConfig(faults: [FaultRule(kind: .unauthorized, percent: 100)]))
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 2, "\(kind): \(outcome.stderr)")
        #expect(outcome.stderr.contains("FAKE_KEY was rejected by provider 'm'"), "\(kind): \(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.batchSubmissions == 0)
    }
}
