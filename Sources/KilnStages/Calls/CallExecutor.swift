import Foundation
import KilnBasics
package import KilnModel
package import KilnProviders
package import KilnScheduler
package import KilnStore

/// The outcome of one call after every retry.
package enum CallResult<Value: Sendable, Answer: ProviderAnswer>: Sendable {
    case succeeded(Value, response: Answer, call: RecordedCall, attempts: Int, usage: Usage, latencyMS: Int)
    /// Failed for a reason retries could not fix; `usage` counts what was paid on the way.
    case failed(reason: String, attempts: Int, usage: Usage)
}

/// The outcome of one chat call.
package typealias CallOutcome<Value: Sendable> = CallResult<Value, ChatResponse>

/// Sends one request through its provider's limiter and the budget, retrying what can be retried (the only
/// retry layer), and validating every answer before it counts: an invalid answer is retried like an error.
package struct CallExecutor: Sendable {
    package let budget: BudgetTracker
    package let stop: StopFlag
    /// The batch coordinators of the providers with `batch: true`, by provider name.
    let batches: [String: BatchCoordinator]
    /// Waits between retries and measures latency (a `ManualClock` in tests).
    let clock: any RunClock
    /// A random number in [0, 1) for the retry jitter.
    let random: @Sendable () -> Double
    /// Where answers are kept the moment they arrive, and answers of killed runs are found (nil: not kept).
    package let journal: AnswerJournal?
    /// The runs sharing the store: a request another run is making is waited for, not paid again (nil: alone).
    package let cooperation: RunCooperation?
    /// This run's calls in flight (with their retries): an identical one waits for the first one's outcome.
    private let inFlight = SharedRequests<(any Sendable)?>()

    package init(
        budget: BudgetTracker, stop: StopFlag, batches: [String: BatchCoordinator] = [:],
        clock: any RunClock = SystemClock(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        journal: AnswerJournal? = nil, cooperation: RunCooperation? = nil
    ) {
        self.journal = journal
        self.cooperation = cooperation
        self.budget = budget
        self.stop = stop
        self.batches = batches
        self.clock = clock
        self.random = random
    }

    /// `validate` turns an answer into the stage's value, or says why it is not acceptable. With `batch: true` on
    /// the provider the first attempt goes through its batch API (`fresh`: never answered from a batch that had
    /// already ended), retries go live.
    package func execute<Value: Sendable>(
        _ request: ChatRequest, on entry: ProviderPool.Entry, fresh: Bool = false,
        validate: @Sendable (ChatResponse) -> Result<Value, ValidationFailure>
    ) async throws(RunStop) -> CallOutcome<Value> {
        let provider = entry.provider
        let estimate = TokenEstimate.tokens(of: request, provider: provider.config)
        return try await perform(
            RequestBody(provider.body(for: request)), to: .chat, estimate: estimate, on: entry,
            batch: batches.isEmpty ? nil : batches[provider.config.name].map { ($0, fresh) }, fresh: fresh,
            decode: { response throws(ProviderError) in try provider.decodeChat(response) }, validate: validate)
    }

    /// Sends embeddings of `texts`; an answer without one vector per text is retried like an error.
    package func embed(
        _ texts: [String], model: String?, on entry: ProviderPool.Entry
    ) async throws(RunStop)
        -> CallResult<[[Float]], EmbeddingResponse>
    {
        let provider = entry.provider
        let input = max(1, texts.reduce(0) { $0 + $1.utf8.count } / 4)
        return try await perform(
            RequestBody(provider.embeddingsBody(texts: texts, model: model)), to: .embeddings, estimate: (input, 0),
            on: entry,
            decode: { response throws(ProviderError) in try provider.decodeEmbeddings(response, expected: texts.count)
            },
            validate: { answer in
                answer.vectors.count == texts.count
                    ? .success(answer.vectors)
                    : .failure(ValidationFailure("\(answer.vectors.count) vectors for \(texts.count) texts"))
            })
    }

    /// What came back for one granted attempt: when it was granted (nil for a batched attempt, which no limiter
    /// granted) and the response, or nil when the run stopped before the request could go out.
    private typealias Attempt = (
        grantedAt: Double?, sent: Double, response: Result<HTTPResponse, ProviderError>
    )?

    /// A call, unless this run is making the very same one (two rows with one question, two agents whose searches
    /// found the same passages): then that call's outcome, retries included, paid for once — the one that waited
    /// counts no request and no cost. `fresh` calls are always made.
    private func perform<Value: Sendable, Answer: ProviderAnswer>(
        _ body: RequestBody, to endpoint: Endpoint, estimate: (input: Int, output: Int), on entry: ProviderPool.Entry,
        batch: (coordinator: BatchCoordinator, fresh: Bool)? = nil, fresh: Bool = false,
        decode: @Sendable (HTTPResponse) throws(ProviderError) -> Answer,
        validate: @Sendable (Answer) -> Result<Value, ValidationFailure>
    ) async throws(RunStop) -> CallResult<Value, Answer> {
        func alone() async throws(RunStop) -> CallResult<Value, Answer> {
            try await performAlone(
                body, to: endpoint, estimate: estimate, on: entry, batch: batch, fresh: fresh, decode: decode,
                validate: validate)
        }
        guard !fresh else { return try await alone() }
        let key = entry.provider.config.name + "\u{1F}" + body.hash
        switch await inFlight.join(key) {
        case .answered(let shared):
            switch shared as? CallResult<Value, Answer> {
            case .succeeded(let value, let response, let call, _, _, let latency):
                return .succeeded(
                    value, response: response, call: call, attempts: 0, usage: Usage(), latencyMS: latency)
            case .failed(let reason, _, _):
                return .failed(reason: reason, attempts: 0, usage: Usage())
            case nil:
                // The first call stopped, or wanted another kind of value: this one is made on its own.
                return try await alone()
            }
        case .send:
            do {
                let result = try await alone()
                if case .succeeded = result {
                    inFlight.finish(key, with: result, keep: true)
                } else {
                    inFlight.finish(key, with: result, keep: false)
                }
                return result
            } catch {
                inFlight.finish(key, with: nil, keep: false)
                throw error
            }
        }
    }

    /// The one retry loop every kind of call goes through: budget, limiter (or the batch for a first attempt),
    /// send, decode, validate, back off.
    private func performAlone<Value: Sendable, Answer: ProviderAnswer>(
        _ body: RequestBody, to endpoint: Endpoint, estimate: (input: Int, output: Int), on entry: ProviderPool.Entry,
        batch: (coordinator: BatchCoordinator, fresh: Bool)?, fresh: Bool,
        decode: @Sendable (HTTPResponse) throws(ProviderError) -> Answer,
        validate: @Sendable (Answer) -> Result<Value, ValidationFailure>
    ) async throws(RunStop) -> CallResult<Value, Answer> {
        let provider = entry.provider
        let limiter = entry.limiter
        let tokens = estimate.input + estimate.output
        // Calls of one kind (provider, endpoint, worst-case output) teach the budget what the next will cost.
        let kind = "\(provider.config.name) \(endpoint) \(estimate.output)"
        let policy = RetryPolicy(maxRetries: provider.config.maxRetries)
        var usage = Usage()
        var waited = 0.0
        var lastError = "no attempt was made"
        var attempt = 0
        while attempt <= policy.maxRetries {
            attempt += 1
            let batched = attempt == 1 ? batch : nil
            let priceFactor = batched?.coordinator.priceFactor ?? 1
            // Without a budget there is nothing to reserve: no hop to the budget actor at all.
            var reservation = 0.0
            if let limit = budget.limitUSD {
                guard
                    let reserved = await budget.reserve(
                        kind: kind, estimate: estimate,
                        price: { priceFactor * provider.cost(inputTokens: $0, outputTokens: $1) })
                else { throw .budgetReached(spentUSD: await budget.spentUSD, limitUSD: limit) }
                reservation = reserved
            }
            let attemptResult: Attempt
            if let batched {
                let sent = clock.now
                do {
                    attemptResult = (nil, sent, try await batched.coordinator.answer(body, reuseEnded: !batched.fresh))
                } catch {
                    if budget.limitUSD != nil { await budget.settle(reserved: reservation, actualUSD: 0) }
                    throw error
                }
            } else {
                attemptResult = await send(body, to: endpoint, tokens: tokens, on: entry, fresh: fresh)
            }
            guard let (grantedAt, sent, http) = attemptResult else {
                if budget.limitUSD != nil { await budget.settle(reserved: reservation, actualUSD: 0) }
                throw .interrupted
            }
            if case .success = http { entry.reached.set() }
            let retryAfter: Double?
            do {
                let response = try decode(try http.get())
                let paid = Usage(
                    inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens,
                    costUSD: priceFactor * response.usage.costUSD)
                usage += paid
                if budget.limitUSD != nil {
                    await budget.settle(
                        reserved: reservation, actualUSD: paid.costUSD,
                        used: (kind, estimate.input, response.usage.inputTokens, response.usage.outputTokens))
                }
                if let grantedAt {
                    limiter.release(
                        estimatedTokens: tokens,
                        outcome: .success(
                            tokens: response.usage.inputTokens + response.usage.outputTokens,
                            remainingRequests: response.rateLimit.remainingRequests,
                            remainingTokens: response.rateLimit.remainingTokens,
                            resetSeconds: response.rateLimit.requestsResetSeconds
                                ?? response.rateLimit.tokensResetSeconds),
                        grantedAt: grantedAt)
                }
                switch validate(response) {
                case .success(let value):
                    let call = RecordedCall(
                        requestHash: body.hash, provider: provider.config.name, request: body.json,
                        response: response.raw,
                        requestText: body.text)
                    // Latency is the answered attempt's own: from sending to a validated answer.
                    let latency = Int(((clock.now - sent) * 1000).rounded())
                    return .succeeded(
                        value, response: response, call: call, attempts: attempt, usage: usage, latencyMS: latency)
                case .failure(let failure):
                    lastError = "invalid answer: \(failure.reason)"
                    retryAfter = nil
                }
            } catch {
                if budget.limitUSD != nil { await budget.settle(reserved: reservation, actualUSD: 0) }
                if let grantedAt {
                    limiter.release(
                        estimatedTokens: tokens,
                        outcome: error.kind == .rateLimited
                            ? .rateLimited(retryAfter: error.retryAfter) : .otherFailure,
                        grantedAt: grantedAt)
                }
                if error.kind == .unauthorized { throw .keyRejected(error.message) }
                if error.kind == .connection, batched == nil, !entry.reached.isSet {
                    throw .unreachable(Self.unreachable(provider.config, error))
                }
                if error.kind == .quotaExhausted { throw .quotaExhausted(error.message) }
                lastError = error.description
                guard error.isRetryable else { return .failed(reason: lastError, attempts: attempt, usage: usage) }
                // A batched attempt's failure goes on live at once; a live one backs off.
                if batched != nil { continue }
                retryAfter = error.retryAfter
            }
            guard attempt <= policy.maxRetries else { break }
            let delay = policy.delay(beforeRetry: attempt, retryAfter: retryAfter, unit: random())
            guard waited + delay <= policy.maxTotalWait else {
                lastError += " (gave up after waiting \(Int(waited)) s in total)"
                break
            }
            waited += delay
            // Ctrl-C ends the wait at once: the unit is left for a rerun instead of holding the run up.
            guard await stop.sleep(seconds: delay, on: clock) else { throw .interrupted }
        }
        return .failed(
            reason: "\(lastError) (after \(attempt) attempt\(attempt == 1 ? "" : "s"))", attempts: attempt, usage: usage
        )
    }

    /// What to say of a provider that cannot be reached: its name, URL and where the pipeline declares it.
    static func unreachable(_ config: ProviderConfig, _ error: ProviderError) -> String {
        let place = config.location.line > 0 ? " (\(config.location.file) line \(config.location.line))" : ""
        return "provider '\(config.name)' cannot be reached at \(config.baseURL ?? "its default URL")\(place): "
            + "\(error.message); nothing was answered, so the run stopped instead of retrying every item. Check "
            + "that the server runs and that base_url is right"
    }

    /// One live attempt: the limiter starts the request itself when a slot is free (here, or on the thread that
    /// frees one), so this task only wakes for the answer.
    /// `fresh` (`--fresh`): asked again, never answered from a journal or another run.
    private func send(
        _ body: RequestBody, to endpoint: Endpoint, tokens: Int, on entry: ProviderPool.Entry, fresh: Bool
    ) async -> Attempt {
        let (stop, clock) = (self.stop, self.clock)
        // Answered before a kill: taken from that run's journal, never paid for twice (nor held by the limiter).
        if !fresh, let answer = journal?.take(body.hash) { return (nil, clock.now, .success(answer)) }
        // Another run on the store made (or is making) this request: its answer, not a second payment.
        var claimed = false
        if !fresh, let cooperation, cooperation.isShared {
            let timeout = entry.provider.config.timeoutSeconds
            let outcome = await cooperation.answerOrClaim(body.hash, holdFor: 2 * timeout + 30) { stop.isSet }
            if let answer = outcome.answer { return (nil, clock.now, .success(answer)) }
            if stop.isSet { return nil }
            claimed = outcome.claimed
        }
        let attempt = await dispatch(body, to: endpoint, tokens: tokens, on: entry)
        if claimed, let cooperation { await cooperation.settle(body.hash, with: attempt?.response) }
        return attempt
    }

    /// Sends one request through the limiter; the answer is journaled as it arrives.
    private func dispatch(
        _ body: RequestBody, to endpoint: Endpoint, tokens: Int, on entry: ProviderPool.Entry
    ) async -> Attempt {
        let provider = entry.provider
        let limiter = entry.limiter
        let (stop, clock, journal) = (self.stop, self.clock, self.journal)
        return await withCheckedContinuation { continuation in
            limiter.enqueue(estimatedTokens: tokens) { grantedAt in
                guard !stop.isSet else {
                    limiter.abandon(estimatedTokens: tokens)
                    continuation.resume(returning: nil)
                    return
                }
                let sent = clock.now
                provider.start(body, to: endpoint) { response in
                    if let journal, case .success(let answer) = response { journal.record(body.hash, answer) }
                    continuation.resume(returning: (grantedAt, sent, response))
                }
            }
        }
    }
}

/// Why an answer was not accepted.
package struct ValidationFailure: Error, Sendable {
    package var reason: String

    package init(_ reason: String) { self.reason = reason }
}

/// Rough token counts for limiting and cost estimates (about 4 characters per token), corrected by real usage.
package enum TokenEstimate {
    package static let defaultOutputTokens = 512

    package static func tokens(of request: ChatRequest, provider: ProviderConfig) -> (input: Int, output: Int) {
        let characters =
            request.messages.reduce(0) { $0 + $1.content.count } + (request.structured?.schema.serialized().count ?? 0)
        let output =
            (request.params.maxTokens ?? provider.params.maxTokens ?? defaultOutputTokens) * max(1, request.choices)
        return (max(1, characters / 4), output)
    }
}
