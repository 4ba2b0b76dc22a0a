package import KilnBasics

/// A request body serialized once (keys sorted): the same bytes are sent, hashed for the call cache and stored
/// for replay.
package struct RequestBody: Sendable {
    package let json: JSONValue
    package let text: String
    package let hash: String

    package init(_ json: JSONValue) {
        self.json = json
        text = json.serialized(sortedKeys: true)
        hash = SHA256.hex(text)
    }
}
