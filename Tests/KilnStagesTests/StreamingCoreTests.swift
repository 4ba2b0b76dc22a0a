import Synchronization
import Testing

@testable import KilnStages

/// The streaming core without any sleeping: the bounded channel between stages and the ordered window every unit
/// stage runs through. Orderings are forced with explicit gates, never with timing.
@Suite struct BoundedChannelBehaviour {
    @Test func aConsumerGetsEverythingInOrderThenTheEnd() async {
        let channel = BoundedChannel<Int>(capacity: 4)
        async let sent: Void = {
            for value in 0..<100 { await channel.send(value) }
            await channel.finish()
        }()
        var received: [Int] = []
        while let value = await channel.receive() { received.append(value) }
        await sent
        #expect(received == Array(0..<100))
    }

    @Test func aFullChannelHoldsTheSenderUntilTheConsumerTakes() async {
        let channel = BoundedChannel<Int>(capacity: 2)
        await channel.send(1)
        await channel.send(2)
        let delivered = Mutex(false)
        async let third: Void = {
            await channel.send(3)
            delivered.withLock { $0 = true }
        }()
        // The sender cannot have finished: the buffer is full and nothing was taken.
        for _ in 0..<100 { await Task.yield() }
        #expect(!delivered.withLock { $0 }, "send suspends while the buffer is full")
        #expect(await channel.receive() == 1)
        await third
        #expect(delivered.withLock { $0 })
        #expect(await channel.receiveBuffered(limit: 10) == [2, 3])
    }

    @Test func finishReleasesAWaitingReceiverAndDrainsTheBufferFirst() async {
        let channel = BoundedChannel<String>(capacity: 8)
        await channel.send("a")
        await channel.finish()
        #expect(await channel.receive() == "a")
        #expect(await channel.receive() == nil)
        let empty = BoundedChannel<String>(capacity: 1)
        async let end = empty.receive()
        await empty.finish()
        #expect(await end == nil)
    }

    @Test func receiveBufferedTakesOnlyWhatIsThere() async {
        let channel = BoundedChannel<Int>(capacity: 8)
        #expect(await channel.receiveBuffered(limit: 4).isEmpty)
        for value in 0..<6 { await channel.send(value) }
        #expect(await channel.receiveBuffered(limit: 4) == [0, 1, 2, 3])
        #expect(await channel.receiveBuffered(limit: 4) == [4, 5])
    }
}

@Suite struct OrderedWindowBehaviour {
    /// Results are emitted in input order even when later elements finish first.
    @Test(arguments: [1, 3, 16])
    func emitsInInputOrderWhateverOrderTheyFinishIn(concurrency: Int) async throws {
        var next = 0
        var emitted: [Int] = []
        try await forEachOrdered(
            {
                defer { next += 1 }
                return next < 200 ? next : nil
            }, concurrency: concurrency,
            transform: { value in
                // Odd elements yield more: they tend to finish after their successors.
                for _ in 0..<(value % 2 == 0 ? 0 : 20) { await Task.yield() }
                return value * 10
            }, emit: { emitted.append($0) })
        #expect(emitted == (0..<200).map { $0 * 10 })
    }

    /// Never more than `concurrency` transforms at once, and never more than 2 × concurrency taken and not emitted.
    @Test(arguments: [1, 2, 8])
    func boundsWhatRunsAndWhatIsHeld(concurrency: Int) async throws {
        let gauge = Gauge()
        var taken = 0
        var emittedCount = 0
        var peakHeld = 0
        try await forEachOrdered(
            {
                guard taken < 100 else { return nil }
                taken += 1
                peakHeld = max(peakHeld, taken - emittedCount)
                return taken
            }, concurrency: concurrency,
            transform: { (value: Int) -> Int in
                gauge.enter()
                for _ in 0..<(value % 3) { await Task.yield() }
                gauge.leave()
                return value
            }, emit: { _ in emittedCount += 1 })
        #expect(emittedCount == 100)
        #expect(gauge.peak <= concurrency)
        #expect(peakHeld <= 2 * concurrency)
    }

    @Test func stopsTakingOnceAskedAndEmitsWhatItTook() async throws {
        var next = 0
        var emitted: [Int] = []
        try await forEachOrdered(
            {
                defer { next += 1 }
                return next
            }, concurrency: 4, transform: { $0 },
            emit: { emitted.append($0) }, shouldStop: { next >= 10 })
        #expect(emitted == Array(0..<10), "what was taken before the stop is emitted, nothing after")
    }

    struct Boom: Error {}

    /// How many transforms run at once, and the most that ever did.
    final class Gauge: Sendable {
        private let state = Mutex((running: 0, peak: 0))
        func enter() {
            state.withLock {
                $0.running += 1
                $0.peak = max($0.peak, $0.running)
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
    }

    @Test func anEmitErrorEndsTheWindow() async {
        var next = 0
        await #expect(throws: Boom.self) {
            try await forEachOrdered(
                {
                    defer { next += 1 }
                    return next < 50 ? next : nil
                }, concurrency: 4, transform: { $0 }, emit: { if $0 == 5 { throw Boom() } })
        }
        #expect(next < 50, "no element is taken after the error: \(next)")
    }
}
