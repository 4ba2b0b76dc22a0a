import Foundation
package import KilnBasics
import KilnStages
package import KilnStore

#if PostgreSQL
import KilnPostgres
#endif

/// Where the checkpoint store is: an SQLite file (the default, `.kiln-pipe/state.sqlite`), or a PostgreSQL
/// database when `--state` is a `postgres://` URL, shared by the shards of a run on several machines (in a build
/// with the `PostgreSQL` package trait, on by default).
package enum StoreLocation {
    /// Runs `body` with the store `state` names: an SQLite file, or a PostgreSQL database whose connections live
    /// as long as this scope.
    package static func with<Result: Sendable>(
        _ state: String, _ body: (any CheckpointStore) async throws -> Result
    ) async throws -> Result {
        guard StatePlace.isDatabase(state) else { return try await body(try openFile(state)) }
        #if PostgreSQL
        return try await PostgresCheckpointStore.with(url: state) { try await body($0) }
        #else
        throw ActionableError(
            "this kiln-pipe was built without PostgreSQL support, so it cannot open \(describe(state))",
            hint: "build it with its default traits (make build, make release), or use an SQLite file with --state")
        #endif
    }

    /// Opens the SQLite store at `path` for reading only; nil while a run is still setting it up.
    package static func openForReading(_ path: String) throws(ActionableError) -> (any CheckpointStore)? {
        do {
            return try SQLiteCheckpointStore(readingAt: path)
        } catch {
            throw ActionableError(
                "cannot read the checkpoint store \(path): \(SystemErrorText.line(of: error))",
                hint: "check that the file is a kiln-pipe store, or choose another with --state", cause: error)
        }
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
        StatePlace.isDatabase(state) ? RedactedURL.of(state) : state
    }
}
