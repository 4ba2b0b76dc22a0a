/// Items per split part, in the order the parts first came (`""` for items without a part).
package struct PartCounts: Sendable {
    package private(set) var parts: [(part: String, count: Int)] = []

    mutating func add(_ part: String) {
        if let index = parts.lastIndex(where: { $0.part == part }) {
            parts[index].count += 1
        } else {
            parts.append((part, 1))
        }
    }
}
