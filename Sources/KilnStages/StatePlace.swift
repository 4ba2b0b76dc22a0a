import Foundation

/// What the stages need to know of where the checkpoint store is (opening it is the engine's business).
package enum StatePlace {
    /// Whether `state` names a database rather than a file.
    package static func isDatabase(_ state: String) -> Bool {
        state.hasPrefix("postgres://") || state.hasPrefix("postgresql://")
    }

    /// The local folder for files kept beside the store (search indexes): the store's folder, or for a database
    /// `.kiln-pipe` beside the pipeline file.
    static func localFolder(of state: String, baseDirectory: String) -> URL {
        isDatabase(state)
            ? URL(fileURLWithPath: baseDirectory).appendingPathComponent(".kiln-pipe")
            : URL(fileURLWithPath: state).deletingLastPathComponent()
    }
}
