import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import KilnScheduler
import Synchronization
import Testing

@testable import KilnStages

/// The one retry loop, driven by a scripted transport and a manual clock: which errors are retried, how long each
/// wait is (the policy's backoff with the injected jitter, or the provider's Retry-After), when it gives up.
/// Nothing sleeps: each test waits for the loop to reach its next sleep and moves the clock on.
@Suite struct CallExecutorRetries {
    static let answer = HTTPResponse.json(
        200,
        #"{"choices": [{"message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}], "#
            + #""usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#)
    static let overloaded = HTTPResponse.json(503, #"{"error": {"message": "overloaded"}}"#)

    struct Harness {
        let transport: ScriptedHTTPTransport
        let clock = ManualClock()
        let executor: CallExecutor
        let entry: ProviderPool.Entry

        init(maxRetries: Int = 5, script: [Result<HTTPResponse, ProviderError>]) {
            transport = ScriptedHTTPTransport(script: script)
            let config = ProviderConfig(
                name: "p", kind: .openai, model: "m", baseURL: "http://127.0.0.1:9/v1", maxConcurrency: 2,
                maxRetries: maxRetries, location: SourceLocation(file: "test.yml"))
            entry = ProviderPool.Entry(
                provider: OpenAICompatibleProvider(config: config, apiKey: nil, transport: transport),
                limiter: ProviderLimiter(maxConcurrency: 2, requestsPerMinute: nil, tokensPerMinute: nil, clock: clock),
                executor: nil)
            executor = CallExecutor(
                budget: BudgetTracker(limitUSD: nil), stop: StopFlag(), clock: clock, random: { 0.5 })
        }

        /// Runs one call of `prompt`; `validate` accepts every answer unless told otherwise.
        func call(
            _ prompt: String = "hello",
            validate: @escaping @Sendable (ChatResponse) -> Result<String, ValidationFailure> = {
                .success($0.choices[0].text)
            }
        ) -> Task<CallOutcome<String>, any Error> {
            Task {
                try await executor.execute(
                    ChatRequest(messages: [ChatMessage(role: "user", content: prompt)]), on: entry, validate: validate)
            }
        }
    }

    @Test func retriesServerErrorsWithBackoffAndJitterThenSucceeds() async throws {
        let harness = Harness(script: [.success(Self.overloaded), .success(Self.overloaded), .success(Self.answer)])
        let call = harness.call()
        // Full jitter: ceiling 0.5 s × 2^attempt, times the injected 0.5.
        #expect(await harness.clock.nextSleep() == 0.5)
        harness.clock.advance(by: 0.5)
        #expect(await harness.clock.nextSleep() == 1.0)
        harness.clock.advance(by: 1.0)
        guard case .succeeded(let value, _, _, let attempts, let usage, _) = try await call.value else {
            Issue.record("expected an answer")
            return
        }
        #expect(value == "fine" && attempts == 3 && usage.outputTokens == 1)
        #expect(harness.transport.requests.count == 3)
    }

    @Test func theProvidersRetryAfterWins() async throws {
        let limited = HTTPResponse.json(429, #"{"error": {"message": "slow down"}}"#, headers: ["retry-after": "7"])
        let harness = Harness(script: [.success(limited), .success(Self.answer)])
        let call = harness.call()
        // Retry-After plus at most a second of jitter (here 0.5 × the 1 s ceiling).
        #expect(await harness.clock.nextSleep() == 7.5)
        harness.clock.advance(by: 7.5)
        guard case .succeeded(_, _, _, let attempts, _, _) = try await call.value else {
            Issue.record("expected an answer")
            return
        }
        #expect(attempts == 2)
    }

    @Test func aBadRequestIsNotRetried() async throws {
        let harness = Harness(script: [.success(.json(400, #"{"error": {"message": "bad field"}}"#))])
        guard case .failed(let reason, let attempts, _) = try await harness.call().value else {
            Issue.record("expected a failure")
            return
        }
        #expect(attempts == 1 && reason.contains("bad field"))
        #expect(harness.clock.waiting == 0, "no wait was started")
    }

    @Test func anInvalidAnswerIsRetriedLikeAnError() async throws {
        let harness = Harness(script: [.success(Self.answer)])
        let seen = Counter()
        let call = harness.call { response in
            seen.increment() == 1 ? .failure(ValidationFailure("not JSON")) : .success(response.choices[0].text)
        }
        #expect(await harness.clock.nextSleep() == 0.5)
        harness.clock.advance(by: 0.5)
        guard case .succeeded(_, _, _, let attempts, let usage, _) = try await call.value else {
            Issue.record("expected an answer")
            return
        }
        #expect(attempts == 2 && usage.outputTokens == 2, "both answers were paid for")
    }

    @Test func givesUpWhenTheTotalWaitWouldPassItsCap() async throws {
        let limited = HTTPResponse.json(429, #"{"error": {"message": "busy"}}"#, headers: ["retry-after": "600"])
        let harness = Harness(script: [.success(limited)])
        let call = harness.call()
        #expect(await harness.clock.nextSleep() == 600.5)
        harness.clock.advance(by: 600.5)
        guard case .failed(let reason, let attempts, _) = try await call.value else {
            Issue.record("expected a failure")
            return
        }
        // A second 600 s wait would pass the 900 s cap on one item's waiting.
        #expect(attempts == 2 && reason.contains("gave up after waiting 600 s in total"))
    }

    @Test func aRejectedKeyStopsTheRun() async throws {
        let harness = Harness(script: [.success(.json(401, #"{"error": {"message": "invalid api key"}}"#))])
        await #expect(throws: RunStop.self) { _ = try await harness.call().value }
        #expect(harness.transport.requests.count == 1)
    }

    @Test func ctrlCEndsAWaitBetweenAttemptsAtOnce() async throws {
        let harness = Harness(script: [.success(Self.overloaded)])
        let call = harness.call()
        #expect(await harness.clock.nextSleep() == 0.5)
        // No time passes: the stop flag alone ends the wait, and the unit is left for a rerun.
        harness.executor.stop.set()
        await #expect(throws: RunStop.interrupted) { _ = try await call.value }
        #expect(harness.transport.requests.count == 1)
        #expect(harness.clock.waiting == 0, "the clock's sleeper was cancelled, not left behind")
    }

    @Test func aProviderThatNeverAnsweredAndRefusesConnectionsStopsTheRunAtOnce() async throws {
        let harness = Harness(script: [.failure(ProviderError(.connection, "Connection refused"))])
        await #expect {
            _ = try await harness.call().value
        } throws: { error in
            guard case .unreachable(let message) = error as? RunStop else { return false }
            return message.contains("provider 'p' cannot be reached at http://127.0.0.1:9/v1")
                && message.contains("Connection refused")
        }
        #expect(harness.clock.waiting == 0, "no retry wait")
    }

    @Test func aProviderThatAnsweredBeforeGetsTheRetryPolicyWhenItGoesAway() async throws {
        let harness = Harness(script: [
            .success(Self.answer), .failure(ProviderError(.connection, "Connection refused")), .success(Self.answer),
        ])
        guard case .succeeded = try await harness.call().value else {
            Issue.record("the first call should succeed")
            return
        }
        let second = harness.call("hello again")
        #expect(await harness.clock.nextSleep() == 0.5, "retried like any network error")
        harness.clock.advance(by: 0.5)
        guard case .succeeded(_, _, _, let attempts, _, _) = try await second.value else {
            Issue.record("expected an answer")
            return
        }
        #expect(attempts == 2)
    }

    @Test func retriesEndAtMaxRetries() async throws {
        let harness = Harness(maxRetries: 2, script: [.success(Self.overloaded)])
        let call = harness.call()
        for expected in [0.5, 1.0] {
            #expect(await harness.clock.nextSleep() == expected)
            harness.clock.advance(by: expected)
        }
        guard case .failed(let reason, let attempts, _) = try await call.value else {
            Issue.record("expected a failure")
            return
        }
        #expect(attempts == 3 && reason.contains("after 3 attempts"))
    }

    /// One run asking the same thing twice at once, or again just after (before the first answer's checkpoint
    /// lands), pays once: the second takes the first's outcome and counts no request and no cost.
    @Test func identicalCallsOfOneRunArePaidOnce() async throws {
        let harness = Harness(script: [.success(Self.overloaded), .success(Self.answer)])
        let first = harness.call()
        let second = harness.call()
        #expect(await harness.clock.nextSleep() == 0.5)
        harness.clock.advance(by: 0.5)
        let outcomes = [try await first.value, try await second.value]
        let third = try await harness.call().value
        #expect(harness.transport.requests.count == 2, "one failed attempt, one answer")
        var paid = 0
        for outcome in outcomes + [third] {
            guard case .succeeded(let text, _, _, let attempts, let usage, _) = outcome else {
                Issue.record("\(outcome)")
                continue
            }
            #expect(text == "fine")
            if attempts > 0 {
                paid += 1
                #expect(attempts == 2 && usage.inputTokens == 3)
            } else {
                #expect(usage.inputTokens == 0)
            }
        }
        #expect(paid == 1)
    }
}

/// A thread-safe counter for validation closures.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// Adds one and returns the new count.
    func increment() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }

}
