/// The last `limit` values stored by key: storing one more forgets the oldest, so memory stays bounded.
package struct RecentValues<Key: Hashable, Value> {
    private var values: [Key: Value] = [:]
    /// Keys oldest first.
    private var order: [Key] = []
    package let limit: Int

    package init(limit: Int) { self.limit = limit }

    package subscript(key: Key) -> Value? { values[key] }

    /// Keeps `value` under `key` (a key kept already keeps its place).
    package mutating func keep(_ value: Value, for key: Key) {
        guard limit > 0, values.updateValue(value, forKey: key) == nil else { return }
        order.append(key)
        if order.count > limit { values[order.removeFirst()] = nil }
    }
}

extension RecentValues: Sendable where Key: Sendable, Value: Sendable {}
