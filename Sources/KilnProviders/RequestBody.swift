package import KilnBasics

/// A request body serialized once, its keys in the order they were written (a structured-output schema's
/// properties go out as declared: strict decoders write them in that order, so a judge's `reasoning` comes before
/// its scores): the same bytes are sent, hashed for the call cache and stored for replay.
package struct RequestBody: Sendable {
    package let json: JSONValue
    package let text: String
    package let hash: String

    package init(_ json: JSONValue) {
        self.json = json
        text = json.serialized()
        hash = SHA256.hex(text)
    }
}
