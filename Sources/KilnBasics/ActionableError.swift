/// An error a user can act on: what is wrong (naming the place: a file, a flag, a stage), what to do about it, and
/// the error that caused it. Every module throws this across its boundary; the command layer prints it as one line
/// and exits 2.
package struct ActionableError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var hint: String?
    /// The lower-level error this one explains (a Foundation file error, an SQLite or PostgreSQL error), kept so
    /// tests and `--json` can reach it; its one-line text is already part of `message` where it helps.
    package var cause: (any Error)?

    package init(_ message: String, hint: String? = nil, cause: (any Error)? = nil) {
        self.message = message
        self.hint = hint
        self.cause = cause
    }

    package var description: String { hint.map { "\(message) (\($0))" } ?? message }

    /// "cannot <action> <path>: <the system's reason>", with a hint: a file operation that failed.
    package static func io(_ action: String, _ path: String, hint: String, cause: any Error) -> ActionableError {
        ActionableError("cannot \(action) \(path): \(SystemErrorText.reason(of: cause))", hint: hint, cause: cause)
    }
}
