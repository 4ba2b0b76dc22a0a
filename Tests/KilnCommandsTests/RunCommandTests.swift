import Foundation
import KilnBasics
import KilnFakeProvider
import Testing

/// `kiln-pipe run` end to end against the fake provider: resume, faults, exit codes, budget.
@Suite(.serialized) struct RunBehaviour {
    @Test func aRerunOfAFinishedPipelineMakesNoCall() throws {
        let scenario = try RunScenario(rows: 30, models: ["a", "b"], samples: 2)
        defer { scenario.finish() }
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(scenario.outputLines.count == 30 * 2 * 2, "each sample is its own unit")
        let requestsAfterFirst = scenario.fake.currentStatistics.requests
        #expect(requestsAfterFirst == 120)
        let firstOutput = scenario.outputLines
        let second = try scenario.run()
        #expect(second.status == 0)
        #expect(scenario.fake.currentStatistics.requests == requestsAfterFirst, "zero provider calls on resume")
        #expect(scenario.outputLines == firstOutput, "the same items in the same order")
        #expect(second.stdout.contains("answers  outputs  120    120     0"))
    }

    @Test func everyRetryableFaultEndsDoneNoneLostNoneDuplicatedNothingInvalidCached() throws {
        let faults: [FaultRule] = [
            .init(kind: .rateLimit, percent: 15), .init(kind: .rateLimitDate, percent: 5),
            .init(kind: .serverError, percent: 10),
            .init(kind: .unavailable, percent: 10), .init(kind: .reset, percent: 10),
            .init(kind: .malformed, percent: 10),
            .init(kind: .schemaInvalid, percent: 10), .init(kind: .truncated, percent: 10),
            .init(kind: .hang, percent: 3),
        ]
        let scenario = try RunScenario(rows: 60, faults: faults, maxConcurrency: 16)
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let statistics = scenario.fake.currentStatistics
        #expect(statistics.faults.values.reduce(0, +) > 20, "the faults were really injected: \(statistics.faults)")
        #expect(scenario.outputLines.count == 60)
        #expect(Set(scenario.outputLines.map { $0.prefix(30) }).count == 60, "no duplicated item")
        #expect(!scenario.outputLines.contains { $0.contains("unexpected") }, "no schema-invalid answer was kept")
        #expect(statistics.duplicateSuccesses == 0, "no request was paid for twice")
        let rerun = try scenario.run()
        #expect(rerun.status == 0)
        #expect(
            scenario.fake.currentStatistics.requests == statistics.requests,
            "the invalid answers were not cached as successes, and the valid ones were")
    }

    @Test func permanentRejectionsFailTheirItemsWithTheProvidersReasonAndExitThree() throws {
        let scenario = try RunScenario(rows: 40, faults: [.init(kind: .badRequest, percent: 20, attempts: .max)])
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 3, "\(outcome.stdout)\(outcome.stderr)")
        let failed = 40 - scenario.outputLines.count
        #expect(failed > 0 && failed < 20)
        #expect(outcome.stdout.contains("HTTP 400: Invalid value for 'messages'"))
        #expect(outcome.stderr.contains("failed; rerun to retry only those"))
        let requests = scenario.fake.currentStatistics.requests
        #expect(requests == 40, "a 400 is not retried")
        _ = try scenario.run()
        #expect(scenario.fake.currentStatistics.requests == requests + failed, "a rerun retries only the failed items")
    }

    @Test func aRejectedKeyStopsTheRunAtOnceWithoutLeakingIt() throws {
        let scenario = try RunScenario(
            rows: 200, faults: [.init(kind: .unauthorized, percent: 100, attempts: .max)], maxConcurrency: 4)
        defer { scenario.finish() }
        let outcome = try scenario.run(key: "sk-secret-value-123")
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("FAKE_KEY was rejected by provider 'a'"), "\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.requests < 20, "the run stopped instead of trying every item")
        let state = try String(
            contentsOf: scenario.directory.appendingPathComponent(".kiln-pipe/state.sqlite"), encoding: .isoLatin1)
        #expect(
            !(outcome.stdout + outcome.stderr + state).contains("sk-secret-value-123"),
            "the key is never written anywhere")
    }

    @Test func anExhaustedQuotaStopsWithExitFour() throws {
        let scenario = try RunScenario(
            rows: 50, faults: [.init(kind: .quota, percent: 100, attempts: .max)], maxConcurrency: 2)
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 4)
        #expect(outcome.stderr.contains("out of quota"))
    }

    /// `--max-cost` spends the budget, not a fraction of it: the first call reserves its worst case (512 output
    /// tokens ≈ $1.04 at the scenario's prices), later ones what calls were seen to cost (≈ $0.03), and a call that
    /// does not fit waits for those in flight to settle. The run stops with 90–100 % of the budget spent, says
    /// what it spent and how to continue, and a rerun with more budget pays for nothing twice.
    @Test(arguments: [2.0, 5.0])
    func theBudgetIsSpentUpToItsLimitAndNeverPast(_ budget: Double) throws {
        let scenario = try RunScenario(rows: 400, latencyMS: 20, maxConcurrency: 8, maxCost: budget)
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 4, "\(outcome.stdout)\(outcome.stderr)")
        let message = try #require(
            outcome.stderr.split(separator: "\n").first { $0.contains("budget reached: $") }, "\(outcome.stderr)")
        #expect(message.contains("raise --max-cost or max_cost_usd to continue"))
        let spent = try #require(
            Double(message.split(separator: "$")[1].prefix { $0 == "." || $0.isNumber }), "\(message)")
        #expect(spent >= 0.9 * budget && spent <= budget, "spent \(spent) of \(budget)")
        // What the message says was spent is what the kept answers cost.
        let status = try KilnPipeBinary.run(["status", "p.yml", "--json"], in: scenario.directory)
        let stages = try JSONValue(parsing: status.stdout)["stages"]?.arrayValue ?? []
        let cost = stages.compactMap { $0["cost_usd"]?.numberValue }.reduce(0, +)
        #expect(abs(cost - spent) < 0.0001, "status says $\(cost), the run said $\(spent)")
        let more = try scenario.run(["--max-cost", "1000"])
        #expect(more.status == 0, "raising the budget continues the run")
        #expect(scenario.outputLines.count == 400)
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 0)
    }

    @Test func aBudgetSmallerThanOneCallStopsBeforeAnyCall() throws {
        let scenario = try RunScenario(rows: 10, maxCost: 0.5)
        defer { scenario.finish() }
        let outcome = try scenario.run()
        #expect(outcome.status == 4, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.contains("budget reached: $0.0000 spent of $0.5000"), "\(outcome.stderr)")
        #expect(scenario.fake.currentStatistics.requests == 0)
    }

    @Test func offlineServesTheStoreAndReportsMisses() throws {
        let scenario = try RunScenario(rows: 10)
        defer { scenario.finish() }
        let offline = try scenario.run(["--offline"])
        #expect(offline.status == 3)
        #expect(
            offline.stdout.contains("not in the checkpoint store, and --offline makes no call"), "\(offline.stdout)")
        #expect(scenario.fake.currentStatistics.requests == 0)
        _ = try scenario.run()
        let again = try scenario.run(["--offline"])
        #expect(again.status == 0)
    }

    @Test func freshRecomputesTheNamedStage() throws {
        let scenario = try RunScenario(rows: 5)
        defer { scenario.finish() }
        _ = try scenario.run()
        _ = try scenario.run(["--fresh-stage", "answers"])
        #expect(scenario.fake.currentStatistics.requests == 10)
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 5, "--fresh pays again on purpose")
    }

    @Test func aMissingKeyVariableIsASetupErrorBeforeAnyCall() throws {
        let scenario = try RunScenario(rows: 5)
        defer { scenario.finish() }
        let outcome = try KilnPipeBinary.run(["run", "p.yml"], in: scenario.directory)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("FAKE_KEY is not set; provider 'a' needs it"))
        #expect(scenario.fake.currentStatistics.requests == 0)
    }
}
