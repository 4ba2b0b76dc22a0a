import KilnBasics
import KilnModel
import Yams

/// A stage as read from the file, kept even when its body has errors so the graph can still be checked.
struct StageDraft {
    var id: String?
    var type: StageType?
    var node: Node
    var idNode: Node?
    /// `from:` references with the node that wrote each.
    var from: [(id: String, node: Node)]
    /// Provider references with the node that wrote each.
    var providerReferences: [(name: String, node: Node)] = []
    /// References to other stages besides `from:` (a search tool's index stage), with the type each must have.
    var stageReferences: [(id: String, node: Node, type: StageType)] = []
    /// Nil when the type-specific settings had errors.
    var settings: StageSettings?

    /// The finished stage, when everything about it could be read.
    var spec: StageSpec? {
        guard let id, let settings else { return nil }
        return StageSpec(id: id, from: from.map(\.id), settings: settings, location: SourceLocation(node: node))
    }
}

extension SourceLocation {
    init(node: Node, file: String = "") {
        self.init(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }
}
