import Dispatch
import Foundation
import KilnStages

/// Ctrl-C, SIGTERM (CI cancellations, Kubernetes) or SIGHUP during a run: the first stops dispatching (in-flight
/// calls finish and are checkpointed; waits between attempts end at once), then the run prints its summary and
/// exits 130; a second signal, or the grace period running out, exits at once. The checkpoint store stays valid
/// either way (WAL transactions). The watcher is a child task of the run's scope, ended with it.
package enum Interrupts {
    /// Seconds in-flight calls get to finish after the first signal (below Kubernetes' 30 s before SIGKILL).
    static let defaultGraceSeconds = 20.0

    /// The signals that stop a run cleanly, with the name a person knows each by.
    static let signals: [(number: Int32, name: String)] = [
        (SIGINT, "Ctrl-C"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"),
    ]

    /// Unblocks the stop signals for the process (a parent may have blocked them: test runners and some CI agents
    /// do, and the mask is inherited). Call on the main thread before any other thread starts.
    package static func receiveStopSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for (number, _) in signals { sigaddset(&set, number) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case watched(interruption: String?)
    }

    /// Returns when a stop signal comes (for a command that serves until stopped, as `view`).
    static func waitForSignal() async {
        let (arrivals, endWatch) = watchSignals()
        defer { endWatch() }
        var iterator = arrivals.makeAsyncIterator()
        _ = await iterator.next()
    }

    /// The stop signals' names as they come, taken from their default action; `stop` ends the watch and the stream.
    private static func watchSignals() -> (arrivals: AsyncStream<String>, stop: () -> Void) {
        let (arrivals, delivery) = AsyncStream.makeStream(of: String.self)
        let sources = signals.map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { delivery.yield(name) }
            source.resume()
            return source
        }
        return (
            arrivals,
            {
                for source in sources { source.cancel() }
                delivery.finish()
            }
        )
    }

    /// Runs `body` with the stop signals watched; returns its result and the first signal's name, if one came.
    static func handling<Value: Sendable>(
        stop: StopFlag, graceSeconds: Double = defaultGraceSeconds, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> (Value, interruption: String?) {
        let (arrivals, endWatch) = watchSignals()
        defer { endWatch() }
        return try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
            group.addTask { .finished(try await body()) }
            group.addTask { .watched(interruption: await watch(arrivals, stop: stop, graceSeconds: graceSeconds)) }
            var value: Value?
            var interruption: String?
            while let outcome = try await group.next() {
                switch outcome {
                case .finished(let result):
                    value = result
                    // The run is over: the watcher ends (a pending grace timer with it).
                    group.cancelAll()
                case .watched(let signal): interruption = signal
                }
            }
            guard let value else { throw CancellationError() }
            return (value, interruption)
        }
    }

    /// Waits for a stop signal until cancelled; its name when one came.
    private static func watch(_ arrivals: AsyncStream<String>, stop: StopFlag, graceSeconds: Double) async -> String? {
        var iterator = arrivals.makeAsyncIterator()
        guard let name = await iterator.next(), !Task.isCancelled else { return nil }
        StandardError.write(
            "\ninterrupted (\(name)): no new calls; finishing the ones in flight for up to \(Int(graceSeconds)) s "
                + "(a second signal quits now). Rerun to resume.")
        stop.set()
        await withTaskGroup(of: Void.self) { grace in
            grace.addTask {
                do { try await Task.sleep(for: .seconds(graceSeconds)) } catch { return }
                StandardError.write("in-flight calls did not finish within \(Int(graceSeconds)) s: exiting")
                exit(KilnExitCode.interrupted)
            }
            if let again = await iterator.next(), !Task.isCancelled {
                StandardError.write("\(again) again: exiting now; finished work is in the checkpoint store")
                exit(KilnExitCode.interrupted)
            }
            grace.cancelAll()
        }
        return name
    }
}
