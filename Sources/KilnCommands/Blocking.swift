import Dispatch

/// Runs async work from a thread that may block (the viewer's connection threads, never the cooperative pool) and
/// waits for its result.
enum Blocking {
    private final class Box<Value: Sendable>: @unchecked Sendable {
        // @unchecked Sendable: written once by the task before `signal`, read after `wait`.
        var result: Result<Value, any Error>?
    }

    static func result<Value: Sendable>(
        _ work: @escaping @Sendable () async throws -> Value
    ) -> Result<Value, any Error> {
        let done = DispatchSemaphore(value: 0)
        let box = Box<Value>()
        Task {
            do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.result ?? .failure(CancellationError())
    }
}
