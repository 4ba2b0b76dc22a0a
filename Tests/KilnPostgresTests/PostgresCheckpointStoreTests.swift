import Foundation
import KilnPostgres
import KilnTesting
import Testing

/// What only the PostgreSQL store can get wrong: its URL and its server (the store's contract is proved for every
/// kind of store in KilnStoreTests). A bad URL, an unreachable server or a missing database is a clear error that
/// never shows the password.
@Suite(.serialized) struct PostgresCheckpointStoreBehaviour {
    /// URLs that cannot name a store, and what the error must say.
    static let badURLs: [(url: String, says: String)] = [
        ("postgres://", "names no host"),
        ("postgres://u:hunter2@localhost/db?sslmode=sometimes", "sslmode=sometimes"),
        ("postgres://u@localhost/db?connect_timeout=soon", "connect_timeout=soon"),
    ]

    @Test(arguments: badURLs)
    func aBadURLIsRejectedWithoutItsPassword(url: String, says: String) async {
        await #expect {
            try await PostgresCheckpointStore.with(url: url) { _ in Issue.record("no store for \(url)") }
        } throws: { error in
            let text = "\(error)"
            return text.contains(says) && !text.contains("hunter2")
        }
    }

    @Test func anUnreachableServerIsAClearErrorWithoutThePassword() async throws {
        let server = try PostgresServer.shared.get()
        // Nothing listens on port 1; a wrong database on the real server is the server's own message. Either stops
        // the scope before its body: nothing can be paid for without a store.
        await #expect {
            try await PostgresCheckpointStore.with(
                url: "postgres://kiln:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=3"
            ) { _ in Issue.record("the store opened") }
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:1") && !text.contains("hunter2")
        }
        await #expect {
            try await PostgresCheckpointStore.with(
                url: "postgres://kiln@127.0.0.1:\(server.port)/no_such_db?sslmode=disable"
            ) { _ in Issue.record("the store opened") }
        } throws: { error in
            "\(error)".contains("no_such_db") && "\(error)".contains("createdb")
        }
    }
}
