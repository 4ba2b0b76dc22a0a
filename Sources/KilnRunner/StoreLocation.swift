import Foundation
package import KilnBasics
package import KilnStore
import KilnPostgres

/// Where the checkpoint store is: an SQLite file (the default, `.kiln-pipe/state.sqlite`), or a PostgreSQL
/// database when `--state` is a `postgres://` URL, shared by the shards of a run on several machines.
package enum StoreLocation {
    /// Whether `state` names a database rather than a file.
    package static func isDatabase(_ state: String) -> Bool {
        state.hasPrefix("postgres://") || state.hasPrefix("postgresql://")
    }

    /// Opens the store `state` names.
    package static func open(_ state: String) throws(ActionableError) -> any CheckpointStore {
        do {
            return isDatabase(state) ? try PostgresCheckpointStore(url: state) : try SQLiteCheckpointStore(path: state)
        } catch let error as ActionableError {
            throw error
        } catch {
            throw ActionableError(
                "cannot open the checkpoint store \(describe(state)): \(SystemErrorText.line(of: error))",
                hint: "choose a writable place with --state (a file path, or postgres://… for a shared store)", cause: error)
        }
    }

    /// `state` as messages show it: a database URL without its password.
    package static func describe(_ state: String) -> String {
        isDatabase(state) ? PostgresCheckpointStore.redacted(state) : state
    }

    /// The local folder for files kept beside the store (search indexes): the store's folder, or for a database
    /// `.kiln-pipe` beside the pipeline file.
    static func localFolder(of state: String, baseDirectory: String) -> URL {
        isDatabase(state)
            ? URL(fileURLWithPath: baseDirectory).appendingPathComponent(".kiln-pipe")
            : URL(fileURLWithPath: state).deletingLastPathComponent()
    }
}
