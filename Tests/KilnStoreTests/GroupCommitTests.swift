import KilnBasics
import KilnScheduler
import KilnStore
import Synchronization
import Testing

/// Group commit without a database: writes that arrive while a commit is under way go into the next transaction
/// together, each write learns its own transaction's outcome, and the time since the last commit is the clock's.
@Suite struct GroupCommitBehaviour {
    struct Failed: Error {}

    static func record(_ key: String) -> CheckpointRecord {
        CheckpointRecord(key: key, stage: "s", status: .done, item: .string(key))
    }

    @Test func writesArrivingDuringACommitShareTheNextOne() async {
        let commits = GroupCommit(clock: ManualClock())
        let added = Shared(0)
        let transactions = Shared<[[String]]>([])
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        /// Writes one record and waits for its transaction; true when it committed.
        @Sendable func write(_ key: String) async -> Bool {
            do {
                try await withCheckedThrowingContinuation { done in
                    _ = commits.add(([Self.record(key)], done))
                    added.value.withLock { $0 += 1 }
                }
                return true
            } catch {
                return false
            }
        }
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            group.addTask { ("a", await write("a")) }
            while added.value.withLock({ $0 }) < 1 { await Task.yield() }
            group.addTask {
                await commits.drain { records in
                    let keys = records.map(\.key)
                    transactions.value.withLock { $0.append(keys) }
                    // The first transaction stays open until the others have queued behind it.
                    if keys == ["a"] { for await _ in gate { break } }
                    return keys.contains("c") ? .failure(Failed()) : .success(())
                }
                return ("drain", true)
            }
            while transactions.value.withLock({ $0.isEmpty }) { await Task.yield() }
            for key in ["b", "c", "d"] { group.addTask { (key, await write(key)) } }
            while added.value.withLock({ $0 }) < 4 { await Task.yield() }
            opener.yield()
            var outcomes: [String: Bool] = [:]
            for await (key, committed) in group { outcomes[key] = committed }
            return outcomes
        }
        // b, c and d are written by three tasks at once: they share the second transaction in any order.
        #expect(transactions.value.withLock { $0 }.map { $0.sorted() } == [["a"], ["b", "c", "d"]])
        #expect(outcomes == ["a": true, "b": false, "c": false, "d": false, "drain": true])
    }

    @Test func theWriterThatFindsNoCommitUnderWayRunsTheCommitsInItsOwnTask() async {
        let commits = GroupCommit(clock: ManualClock())
        let transactions = Shared<[[String]]>([])
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        @Sendable func commit(_ records: [CheckpointRecord]) async -> Result<Void, any Error> {
            let keys = records.map(\.key)
            transactions.value.withLock { $0.append(keys) }
            if keys == ["a"] { for await _ in gate { break } }
            return keys.contains("c") ? .failure(Failed()) : .success(())
        }
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for key in ["a", "b", "c", "d"] {
                group.addTask {
                    do {
                        try await commits.write([Self.record(key)], commit: commit)
                        return (key, true)
                    } catch {
                        return (key, false)
                    }
                }
                // "a" commits (and holds its transaction open) before the others write.
                if key == "a" { while transactions.value.withLock({ $0.isEmpty }) { await Task.yield() } }
            }
            // b, c and d queue behind the open transaction; then it ends.
            while commits.queuedWrites < 3 { await Task.yield() }
            opener.yield()
            var outcomes: [String: Bool] = [:]
            for await (key, committed) in group { outcomes[key] = committed }
            return outcomes
        }
        #expect(transactions.value.withLock { $0 } == [["a"], ["b", "c", "d"]])
        #expect(outcomes == ["a": true, "b": false, "c": false, "d": false])
    }

    @Test func sinceLastCommitIsMeasuredOnTheClock() async throws {
        let clock = ManualClock()
        let commits = GroupCommit(clock: clock)
        try await withCheckedThrowingContinuation { done in
            let (startDraining, since) = commits.add(([Self.record("a")], done))
            #expect(startDraining && since == .seconds(1), "a fresh store counts as a second since its last commit")
            commits.drainBlocking { _ in .success(()) }
        }
        clock.advance(by: 0.25)
        try await withCheckedThrowingContinuation { done in
            let (_, since) = commits.add(([Self.record("b")], done))
            #expect(since == .seconds(0.25))
            commits.drainBlocking { _ in .success(()) }
        }
    }
}

/// A value several tasks share, behind a mutex.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
