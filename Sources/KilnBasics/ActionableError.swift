/// An error a user can act on: what is wrong, and what to do about it.
package struct ActionableError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var hint: String?

    package init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    package var description: String { hint.map { "\(message) (\($0))" } ?? message }
}
