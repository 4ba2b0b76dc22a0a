import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import KilnScheduler
package import KilnStore

/// Sends the first attempt of every chat call to a provider with `batch: true` through its batch API: gathers the
/// requests that arrive together (up to `batch_size`, or until none arrived for a moment), saves the submission in
/// the checkpoint store *before* sending it, polls it with backoff, and hands each waiting call the answer its
/// request got, which the call then validates and checkpoints like a live answer.
///
/// Never twice: a request whose hash is already carried by a saved submission (this run's, or one a killed run
/// left behind) waits for that batch instead of being submitted again; a submission saved but never confirmed is
/// looked up at the provider first. Identical requests share one line.
package actor BatchCoordinator {
    typealias Answer = Result<HTTPResponse, ProviderError>

    private let api: any BatchAPI
    private let provider: ProviderConfig
    private let settings: BatchSettings
    private let store: any CheckpointStore
    private let stop: StopFlag
    /// Told of every change of a submission's state (for progress).
    private let observe: @Sendable (BatchRecord) async -> Void

    /// When requests go out and how often submissions are looked at (the decisions, as a value).
    private var gathering: BatchGathering
    /// The pending requests' bodies, by hash.
    private var bodies: [String: RequestBody] = [:]
    /// Whether each pending request may be served by a batch that has already ended (false under `--fresh`).
    private var reusesEnded: [String: Bool] = [:]
    /// Everyone waiting for an answer, by request hash: one answer serves identical requests.
    private var waiters: [String: [CheckedContinuation<Result<Answer, RunStop>, Never>]] = [:]
    /// The batches this run polls, by submission key, and the request hashes it waits for in each.
    private var polled: [String: Set<String>] = [:]
    private let clock: any RunClock
    private let random: @Sendable () -> Double
    /// Work for `run()`: every submission, poll and timer runs as a child task of it, never on its own.
    private let jobs: AsyncStream<Job>.Continuation
    private let jobStream: AsyncStream<Job>

    private enum Job: Sendable {
        case check(at: Double)
        case dispatch([RequestBody])
        case poll(BatchRecord)
    }

    /// The first look at a fresh submission; later looks back off by half again, up to `batch_poll_max_s`.
    static let firstPollSeconds = 1.0

    init(
        api: any BatchAPI, provider: ProviderConfig, settings: BatchSettings, store: any CheckpointStore,
        stop: StopFlag, clock: any RunClock = SystemClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        observe: @escaping @Sendable (BatchRecord) async -> Void
    ) {
        self.api = api
        self.provider = provider
        self.settings = settings
        self.store = store
        self.stop = stop
        self.clock = clock
        self.random = random
        self.observe = observe
        gathering = BatchGathering(maxRequests: settings.maxRequests)
        (jobStream, jobs) = AsyncStream.makeStream(of: Job.self)
    }

    nonisolated var priceFactor: Double { settings.priceFactor }

    /// A coordinator for each of the `names` providers with `batch: true` whose kind has a batch API.
    package static func forBatchedProviders(
        in pool: ProviderPool, names: Set<String>, store: any CheckpointStore, stop: StopFlag, progress: RunProgress
    ) -> [String: BatchCoordinator] {
        var coordinators: [String: BatchCoordinator] = [:]
        for name in names {
            guard let entry = pool[name], let settings = entry.provider.config.batch, let api = entry.provider.batchAPI
            else {
                continue
            }
            coordinators[name] = BatchCoordinator(
                api: api, provider: entry.provider.config, settings: settings, store: store, stop: stop,
                observe: { await progress.batchChanged($0) })
        }
        return coordinators
    }

    /// Runs `body` with the coordinators working: their submissions, polls and timers are child tasks of this
    /// scope, which ends (cancelling any timer left) once `body` has returned or thrown.
    package static func running<Result: Sendable>(
        _ coordinators: [BatchCoordinator], body: () async throws -> Result
    ) async throws -> Result {
        guard !coordinators.isEmpty else { return try await body() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for coordinator in coordinators { group.addTask { await coordinator.run() } }
            let result = try await body()
            for coordinator in coordinators { coordinator.jobs.finish() }
            group.cancelAll()
            return result
        }
    }

    /// Carries out the jobs until `running` ends: each as a child task.
    private func run() async {
        await withTaskGroup(of: Void.self) { group in
            for await job in jobStream {
                group.addTask { await self.perform(job) }
            }
            group.cancelAll()
        }
    }

    private func perform(_ job: Job) async {
        switch job {
        case .check(let time):
            await clock.sleep(seconds: time - clock.now)
            if stop.isSet || Task.isCancelled { return abandonPending() }
            carryOut(gathering.check(now: clock.now))
        case .dispatch(let bodies): await dispatch(bodies)
        case .poll(let batch): await poll(batch)
        }
    }

    /// The answer `body` got in a batch, or why the run stopped first. `reuseEnded` false (`--fresh`) never serves
    /// it from a batch that had already ended.
    func answer(_ body: RequestBody, reuseEnded: Bool) async throws(RunStop) -> Answer {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Result<Answer, RunStop>, Never>) in
            guard !stop.isSet else { return continuation.resume(returning: .failure(.interrupted)) }
            if waiters[body.hash] != nil {
                waiters[body.hash]?.append(continuation)
                return
            }
            waiters[body.hash] = [continuation]
            bodies[body.hash] = body
            reusesEnded[body.hash] = reuseEnded
            carryOut(gathering.arrive(body.hash, now: clock.now))
        }.get()
    }

    /// Turns the gathering's decisions into jobs.
    private func carryOut(_ actions: [BatchGathering.Action]) {
        for action in actions {
            switch action {
            case .submit(let hashes): jobs.yield(.dispatch(hashes.compactMap { bodies.removeValue(forKey: $0) }))
            case .checkAt(let time): jobs.yield(.check(at: time))
            }
        }
    }

    /// Follows the saved submissions that already carry some of `bodies`, and submits the rest.
    private func dispatch(_ bodies: [RequestBody]) async {
        let known: [String: BatchRecord]
        do {
            known = try await store.batches(carrying: bodies.map(\.hash))
        } catch {
            return finish(bodies.map(\.hash), with: .failure(.storeUnwritable("reading batch submissions: \(error)")))
        }
        var fresh: [RequestBody] = []
        var followed: [String: (batch: BatchRecord, bodies: [RequestBody])] = [:]
        for body in bodies {
            if let batch = known[body.hash], batch.state != .ended || reusesEnded[body.hash] ?? true {
                followed[batch.key, default: (batch, [])].bodies.append(body)
            } else {
                fresh.append(body)
            }
        }
        for (_, group) in followed.sorted(by: { $0.key < $1.key }) {
            if let lost = await follow(group.batch, bodies: group.bodies) { fresh += lost }
        }
        if !fresh.isEmpty { await submit(fresh) }
    }

    /// Polls a saved submission for `bodies`. A submission saved but never confirmed is first looked up at the
    /// provider; when the provider never got it, its requests are returned to be submitted anew.
    private func follow(_ saved: BatchRecord, bodies: [RequestBody]) async -> [RequestBody]? {
        var batch = saved
        if batch.providerBatchID == nil {
            do {
                guard let found = try await api.find(key: batch.key, requests: batch.requests, savedAt: batch.createdAt)
                else {
                    batch.state = .refused
                    batch.note = "never reached the provider (the run that saved it stopped first)"
                    batch.updatedAt = Date().timeIntervalSince1970
                    try? await store.saveBatch(batch)
                    return bodies
                }
                batch.update(from: found)
                try await store.saveBatch(batch)
            } catch let error as ProviderError {
                finish(
                    bodies.map(\.hash),
                    with: Self.outcome(of: error, context: "looking up batch submission \(batch.key.prefix(12))"))
                return nil
            } catch {
                finish(bodies.map(\.hash), with: .failure(.storeUnwritable("saving a batch submission: \(error)")))
                return nil
            }
        }
        let startPolling = polled[batch.key] == nil
        polled[batch.key, default: []].formUnion(bodies.map(\.hash))
        if startPolling {
            await observe(batch)
            jobs.yield(.poll(batch))
        }
        return nil
    }

    /// Saves a submission of `bodies`, sends it, and polls it. Retryable failures are retried (after checking that
    /// the provider did not accept the earlier try); a refusal hands its error to every request of it.
    private func submit(_ bodies: [RequestBody]) async {
        let hashes = bodies.map(\.hash)
        let key = SHA256.hex(([provider.name] + hashes.sorted()).joined(separator: "\n"))
        var batch = BatchRecord(
            key: key, provider: provider.name, state: .submitting, requests: bodies.count, requestHashes: hashes)
        do {
            try await store.saveBatch(batch)
        } catch {
            return finish(hashes, with: .failure(.storeUnwritable("saving a batch submission: \(error)")))
        }
        batch.requestHashes = []
        await observe(batch)
        let policy = RetryPolicy(maxRetries: provider.maxRetries)
        var attempt = 0
        while true {
            attempt += 1
            do {
                // After a timeout or a lost connection the provider may have accepted the earlier try.
                if attempt > 1,
                    let earlier = try await api.find(key: key, requests: bodies.count, savedAt: batch.createdAt)
                {
                    batch.update(from: earlier)
                } else {
                    batch.update(from: try await api.submit(bodies, key: key))
                }
                break
            } catch {
                guard !error.stopsRun, error.isRetryable, attempt <= policy.maxRetries, !stop.isSet else {
                    batch.state = .refused
                    batch.note = error.description
                    batch.updatedAt = Date().timeIntervalSince1970
                    try? await store.saveBatch(batch)
                    await observe(batch)
                    let hint =
                        error.status == 404 || error.status == 405
                        ? " (does this server have a batch API? set batch: false on provider "
                            + "'\(provider.name)' to call it live)"
                        : ""
                    return finish(
                        hashes,
                        with: Self.outcome(of: error, context: "submitting a batch of \(bodies.count) requests\(hint)"))
                }
                let delay = policy.delay(beforeRetry: attempt, retryAfter: error.retryAfter, unit: random())
                guard await pause(seconds: delay) else { return finish(hashes, with: .failure(.interrupted)) }
            }
        }
        do {
            try await store.saveBatch(batch)
        } catch {
            // Accepted but not saved as such: a rerun finds it at the provider by its key.
            return finish(
                hashes, with: .failure(.storeUnwritable("saving batch \(batch.providerBatchID ?? ""): \(error)")))
        }
        await observe(batch)
        polled[key, default: []].formUnion(hashes)
        await poll(batch)
    }

    /// Looks at a submission with backoff until it ends, then hands out its answers. Requests it does not answer
    /// (expired, cancelled, a failed batch) get a retryable error: their calls go on live.
    private func poll(_ start: BatchRecord) async {
        var batch = start
        guard let id = batch.providerBatchID else { return }
        var schedule = BatchPollSchedule(maxSeconds: settings.maxPollSeconds, first: Self.firstPollSeconds)
        var failures = 0
        while true {
            if batch.state != .ended || failures > 0 {
                guard await pause(seconds: schedule.delay) else {
                    return finishPolled(batch.key, with: .failure(.interrupted))
                }
                schedule.looked()
            }
            do {
                let state = try await api.refresh(id)
                let before = batch
                batch.update(from: state)
                if state.ended {
                    let results = try await api.results(of: state)
                    batch.state = .ended
                    try? await store.saveBatch(batch)
                    await observe(batch)
                    return deliver(results, of: batch, status: state)
                }
                if batch.providerStatus != before.providerStatus || batch.completed != before.completed
                    || batch.failed != before.failed
                {
                    try? await store.saveBatch(batch)
                    await observe(batch)
                }
                failures = 0
            } catch {
                // A network blip or a busy API never abandons a batch that may be answered and paid for: polling
                // goes on with backoff (Ctrl-C leaves it for a rerun).
                failures += 1
                if error.isRetryable {
                    schedule.failed(retryAfter: error.retryAfter)
                    continue
                }
                guard !error.stopsRun else {
                    return finishPolled(batch.key, with: Self.outcome(of: error, context: "polling batch \(id)"))
                }
                // The provider no longer knows it (deleted, archived): it is dropped, and its calls go on live.
                batch.state = .refused
                batch.note = "polling failed: \(error.description)"
                batch.updatedAt = Date().timeIntervalSince1970
                try? await store.saveBatch(batch)
                await observe(batch)
                return finishPolled(
                    batch.key,
                    with: .success(
                        .failure(
                            ProviderError(.serverError, "batch \(id) cannot be read any more (\(error.description))"))))
            }
        }
    }

    /// Hands each waiting request its answer from an ended batch.
    private func deliver(_ results: [String: Answer], of batch: BatchRecord, status: ProviderBatch) {
        let hashes = polled.removeValue(forKey: batch.key) ?? []
        let missing = ProviderError(
            .serverError,
            "batch \(status.id) ended (\(status.status)) without an answer for this request"
                + (status.problem.map { ": \($0)" } ?? ""))
        for hash in hashes { resume(hash, with: .success(results[hash] ?? .failure(missing))) }
    }

    /// What a failed batch operation means for the calls waiting on it: a stop for a rejected key or an empty
    /// account, otherwise the error (a retryable one sends the calls on live).
    private static func outcome(of error: ProviderError, context: String) -> Result<Answer, RunStop> {
        switch error.kind {
        case .unauthorized: .failure(.keyRejected(error.message))
        case .quotaExhausted: .failure(.quotaExhausted(error.message))
        default: .success(.failure(ProviderError(error.kind, "\(context): \(error.message)", status: error.status)))
        }
    }

    private func finishPolled(_ key: String, with outcome: Result<Answer, RunStop>) {
        finish(Array(polled.removeValue(forKey: key) ?? []), with: outcome)
    }

    private func finish(_ hashes: [String], with outcome: Result<Answer, RunStop>) {
        for hash in hashes { resume(hash, with: outcome) }
    }

    private func resume(_ hash: String, with outcome: Result<Answer, RunStop>) {
        reusesEnded[hash] = nil
        for waiter in waiters.removeValue(forKey: hash) ?? [] { waiter.resume(returning: outcome) }
    }

    /// Requests not yet submitted when the run stops are never sent.
    private func abandonPending() {
        let hashes = gathering.abandon()
        for hash in hashes { bodies[hash] = nil }
        finish(hashes, with: .failure(.interrupted))
    }

    /// Waits `seconds` on the run's clock, looking at the stop flag four times a second; false when the run
    /// stopped (or its task was cancelled).
    private func pause(seconds: Double) async -> Bool {
        let end = clock.now + seconds
        while clock.now < end {
            if stop.isSet || Task.isCancelled {
                abandonPending()
                return false
            }
            await clock.sleep(seconds: min(0.25, end - clock.now))
        }
        return !stop.isSet && !Task.isCancelled
    }
}
extension BatchRecord {
    /// Takes the provider's word for the batch's state.
    mutating func update(from batch: ProviderBatch) {
        providerBatchID = batch.id
        providerStatus = batch.status
        completed = batch.completed
        failed = batch.failed
        note = batch.problem ?? note
        state = batch.ended ? .ended : .submitted
        updatedAt = Date().timeIntervalSince1970
    }
}
