import Foundation
package import KilnBasics
import KilnPostgres
import KilnStages
package import KilnStore

/// Where the checkpoint store is: an SQLite file (the default, `.kiln-pipe/state.sqlite`), or a PostgreSQL
/// database when `--state` is a `postgres://` URL, shared by the shards of a run on several machines.
package enum StoreLocation {
    /// Opens the store `state` names.
    package static func open(_ state: String) throws(ActionableError) -> any CheckpointStore {
        do {
            return StatePlace.isDatabase(state)
                ? try PostgresCheckpointStore(url: state) : try SQLiteCheckpointStore(path: state)
        } catch let error as ActionableError {
            throw error
        } catch {
            throw ActionableError(
                "cannot open the checkpoint store \(describe(state)): \(SystemErrorText.line(of: error))",
                hint: "choose a writable place with --state (a file path, or postgres://… for a shared store)",
                cause: error)
        }
    }

    /// `state` as messages show it: a database URL without its password.
    package static func describe(_ state: String) -> String {
        StatePlace.isDatabase(state) ? PostgresCheckpointStore.redacted(state) : state
    }
}
