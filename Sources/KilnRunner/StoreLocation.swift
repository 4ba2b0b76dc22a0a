import Foundation
import KilnBasics
import KilnPostgres
import KilnStages
package import KilnStore

/// Where the checkpoint store is: an SQLite file (the default, `.kiln-pipe/state.sqlite`), or a PostgreSQL
/// database when `--state` is a `postgres://` URL, shared by the shards of a run on several machines.
package enum StoreLocation {
    /// Runs `body` with the store `state` names: an SQLite file, or a PostgreSQL database whose connections live
    /// as long as this scope.
    package static func with<Result: Sendable>(
        _ state: String, _ body: (any CheckpointStore) async throws -> Result
    ) async throws -> Result {
        guard StatePlace.isDatabase(state) else { return try await body(try openFile(state)) }
        return try await PostgresCheckpointStore.with(url: state) { try await body($0) }
    }

    /// Opens the SQLite store at `path`.
    private static func openFile(_ path: String) throws(ActionableError) -> any CheckpointStore {
        do {
            return try SQLiteCheckpointStore(path: path)
        } catch let error as ActionableError {
            throw error
        } catch {
            throw ActionableError(
                "cannot open the checkpoint store \(path): \(SystemErrorText.line(of: error))",
                hint: "choose a writable place with --state (a file path, or postgres://… for a shared store)",
                cause: error)
        }
    }

    /// `state` as messages show it: a database URL without its password.
    package static func describe(_ state: String) -> String {
        StatePlace.isDatabase(state) ? PostgresCheckpointStore.redacted(state) : state
    }
}
