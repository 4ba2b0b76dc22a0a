import Dispatch
import Foundation
import KilnStages

/// Ctrl-C during a run: the first stops dispatching (in-flight calls finish and are checkpointed; waits between
/// attempts end at once); the second, or a grace period running out, exits at once. The checkpoint store stays
/// valid either way (WAL transactions). The watcher is a child task of the run's scope, ended with it.
enum Interrupts {
    static let graceSeconds = 30.0

    private enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        case watched(interrupted: Bool)
    }

    /// Runs `body` with SIGINT watched; returns its result and whether Ctrl-C was pressed.
    static func handling<Value: Sendable>(
        stop: StopFlag, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> (Value, interrupted: Bool) {
        let (signals, delivery) = AsyncStream.makeStream(of: Void.self)
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { delivery.yield() }
        source.resume()
        defer {
            source.cancel()
            delivery.finish()
        }
        return try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
            group.addTask { .finished(try await body()) }
            group.addTask { .watched(interrupted: await watch(signals, stop: stop)) }
            var value: Value?
            var interrupted = false
            while let outcome = try await group.next() {
                switch outcome {
                case .finished(let result):
                    value = result
                    // The run is over: the watcher ends (a pending grace timer with it).
                    group.cancelAll()
                case .watched(let sawSignal): interrupted = sawSignal
                }
            }
            guard let value else { throw CancellationError() }
            return (value, interrupted)
        }
    }

    /// Waits for Ctrl-C until cancelled; true when one came.
    private static func watch(_ signals: AsyncStream<Void>, stop: StopFlag) async -> Bool {
        var iterator = signals.makeAsyncIterator()
        guard await iterator.next() != nil, !Task.isCancelled else { return false }
        StandardError.write(
            "\ninterrupted: no new calls; finishing the ones in flight (Ctrl-C again to quit now). Rerun to resume.")
        stop.set()
        await withTaskGroup(of: Void.self) { grace in
            grace.addTask {
                do { try await Task.sleep(for: .seconds(graceSeconds)) } catch { return }
                StandardError.write("in-flight calls did not finish within \(Int(graceSeconds)) s: exiting")
                exit(KilnExitCode.interrupted)
            }
            if await iterator.next() != nil, !Task.isCancelled {
                StandardError.write("interrupted again: exiting now; finished work is in the checkpoint store")
                exit(KilnExitCode.interrupted)
            }
            grace.cancelAll()
        }
        return true
    }
}
