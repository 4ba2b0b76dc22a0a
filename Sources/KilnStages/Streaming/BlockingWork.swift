import Dispatch

/// Runs blocking C work (poppler, libxml2, SQLite) on Dispatch threads, off Swift's cooperative pool, where one
/// blocking call would stall half the runtime on a 2-core machine.
enum BlockingWork {
    static func run<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure)
        -> Value
    {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(Failure) -> Value in try body() })
            }
        }
        return try result.get()
    }
}

/// A non-thread-safe value confined to one serial queue; every use goes through `perform`.
package final class SerialConfined<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched on `queue`.
    private let value: Value
    private let queue: DispatchQueue

    package init(_ value: Value, label: String) {
        self.value = value
        queue = DispatchQueue(label: label)
    }

    package func perform<Output: Sendable>(_ body: @escaping @Sendable (Value) throws -> Output) async throws -> Output
    {
        let result: Result<Output, any Error> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { try body(self.value) }) }
        }
        return try result.get()
    }
}
