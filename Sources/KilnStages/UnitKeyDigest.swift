/// The set of a stage's unit keys as a count and an order-independent sum of their leading 64 bits: units finish
/// in any order and a run may hold millions, so the keys themselves are not kept. Equal digests mean the same units
/// (up to a 2^-64 chance).
package struct UnitKeyDigest: Sendable, Hashable {
    package private(set) var count = 0
    package private(set) var sum: UInt64 = 0

    package init() {}

    /// Adds content addresses (hex SHA-256 keys).
    mutating func add(_ keys: [String]) {
        for key in keys {
            count += 1
            sum &+= UInt64(key.prefix(16), radix: 16) ?? 0
        }
    }

    /// `12:00f3a9…` (the count, then the sum in hex), as the run history records it.
    package var text: String {
        let hex = String(sum, radix: 16)
        return "\(count):" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
