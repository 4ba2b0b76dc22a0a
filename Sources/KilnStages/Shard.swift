import KilnBasics
package import KilnModel

/// One of `count` parallel parts of a run (`run --shard INDEX/COUNT`, INDEX from 0): the items whose stable hash
/// falls in it. The hash is SHA-256 of the item's id, so every machine agrees on it and every item belongs to
/// exactly one shard.
package struct Shard: Sendable, Hashable, CustomStringConvertible {
    package var index: Int
    package var count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Reads `I/N`; the error says what was expected.
    package init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ActionableError(
                "--shard '\(text)' is not INDEX/COUNT",
                hint:
                    "e.g. --shard 0/4 … --shard 3/4 (a GitHub Actions matrix index, or a Kubernetes "
                    + "JOB_COMPLETION_INDEX)"
            )
        }
        guard count >= 1, (0..<count).contains(index) else {
            throw ActionableError(
                "--shard \(text): the index must be from 0 to \(max(0, count - 1)) and the count at least 1",
                hint:
                    "shards of \(max(count, 1)) are --shard 0/\(max(count, 1)) … --shard "
                    + "\(max(count, 1) - 1)/\(max(count, 1))"
            )
        }
        self.init(index: index, count: count)
    }

    /// Whether the item with this id is this shard's.
    package func contains(_ id: String) -> Bool {
        count == 1 || Int((UInt64(SHA256.hex(id).prefix(16), radix: 16) ?? 0) % UInt64(count)) == index
    }

    package var description: String { "\(index)/\(count)" }

    /// Stages that need their whole input: in a sharded run they wait for `run --after-shards`.
    package static func needsWholeInput(_ type: StageType) -> Bool {
        switch type {
        case .split, .export, .index: true
        case .load, .topics, .inputs, .outputs, .judge, .ingest, .qna: false
        }
    }
}
