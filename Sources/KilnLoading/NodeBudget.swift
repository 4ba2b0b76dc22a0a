import KilnBasics
import Yams

/// The YAML nodes a pipeline file expands to, counted as its readers will walk them: an alias counts as the whole
/// node it repeats. A few kilobytes of nested aliases ("billion laughs") expand to billions of nodes, so the
/// count stops at `limit` (its cost is bounded by it) and the file is refused, located at the alias that passed it.
enum NodeBudget {
    /// Far above any real pipeline (a 40,000-value enum is 40,000 nodes), far below a hang.
    static let limit = 1_000_000

    /// Nil when `root` stays within `limit` nodes; else the node at which the count passed it.
    static func overflow(of root: Node, limit: Int = limit) -> Node? {
        var count = 0
        var stack = [root]
        while let node = stack.popLast() {
            count += 1
            if count > limit { return node }
            switch node {
            case .scalar, .alias: break
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            }
        }
        return nil
    }

    static func diagnostic(at node: Node, file: String) -> Diagnostic {
        Diagnostic(
            .error,
            at: SourceLocation(
                file: file, line: node.mark.map { $0.line } ?? 0, column: node.mark.map { $0.column } ?? 0),
            "the file expands to more than \(limit) YAML values (aliases re-used inside aliases: a \"billion laughs\" "
                + "file?); refused before reading it",
            hint: "write the values out, or re-use an anchor without nesting aliases inside it")
    }
}
