import KilnBasics
import KilnModel
import Yams

/// Checks the stage graph: unique ids, resolvable `from:` references, no cycles, and inputs of a fitting type.
struct StageGraphCheck {
    let reader: NodeReader
    let stages: [StageDraft]

    func run() {
        var firstByID: [String: StageDraft] = [:]
        for stage in stages {
            guard let id = stage.id else { continue }
            if let first = firstByID[id] {
                reader.error(
                    at: stage.idNode, "duplicate stage id '\(id)'",
                    hint: "first defined at line \(first.idNode?.mark?.line ?? 0); give each stage its own id")
            } else {
                firstByID[id] = stage
            }
        }
        let ids = stages.compactMap(\.id)
        for stage in stages {
            checkInputs(of: stage, ids: ids, firstByID: firstByID)
        }
        reportCycles(firstByID: firstByID)
    }

    private func checkInputs(of stage: StageDraft, ids: [String], firstByID: [String: StageDraft]) {
        guard let id = stage.id else { return }
        if let type = stage.type {
            if type.isSource, let first = stage.from.first {
                reader.error(
                    at: first.node, "stage '\(id)' of type \(type.rawValue) takes no 'from:'",
                    hint: "\(type.rawValue) produces its own items; remove 'from:'")
            } else if !type.isSource, stage.from.isEmpty {
                let accepted = type.acceptedInputs.map(\.rawValue).joined(separator: " or ")
                reader.error(
                    at: stage.node, "stage '\(id)' of type \(type.rawValue) needs 'from:'",
                    hint: "it reads \(type.acceptedInputs[0].itemNoun): add 'from: <id of a stage of type \(accepted)>'"
                )
            }
        }
        for reference in stage.stageReferences {
            guard let target = firstByID[reference.id] else {
                reader.error(
                    at: reference.node, "stage '\(id)' searches unknown stage '\(reference.id)'",
                    hint: NearMiss.hint(
                        for: reference.id, among: stages.filter { $0.type == reference.type }.compactMap(\.id),
                        listing: "\(reference.type.rawValue) stages in this file"))
                continue
            }
            if let type = target.type, type != reference.type {
                reader.error(
                    at: reference.node,
                    "stage '\(id)' searches '\(reference.id)', which is not an index stage (its type is "
                        + "\(type.rawValue))",
                    hint: "name a stage of type index: {id: idx, type: index, from: <ingest stage>}")
            }
        }
        var seen: Set<String> = []
        for reference in stage.from {
            if !seen.insert(reference.id).inserted {
                reader.error(at: reference.node, "stage '\(id)' lists '\(reference.id)' twice in 'from:'")
                continue
            }
            guard let source = firstByID[reference.id] else {
                reader.error(
                    at: reference.node, "stage '\(id)' reads from unknown stage '\(reference.id)'",
                    hint: NearMiss.hint(
                        for: reference.id, among: ids.filter { $0 != id }, listing: "stages in this file"))
                continue
            }
            guard let type = stage.type, let sourceType = source.type, !type.isSource, reference.id != id else {
                continue
            }
            if !type.acceptedInputs.contains(sourceType) {
                let accepted = type.acceptedInputs.map(\.rawValue).joined(separator: " or ")
                reader.error(
                    at: reference.node,
                    "stage '\(id)' (type \(type.rawValue)) cannot read from '\(reference.id)' (type "
                        + "\(sourceType.rawValue))",
                    hint: "\(type.rawValue) reads \(type.acceptedInputs[0].itemNoun), from a stage of type \(accepted)")
            }
        }
    }

    /// Reports each cycle once, as `a -> b -> a`, at the first stage of the cycle in file order.
    private func reportCycles(firstByID: [String: StageDraft]) {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        var reported: Set<Set<String>> = []

        func visit(_ id: String) {
            marks[id] = .visiting
            path.append(id)
            let draft = firstByID[id]
            let edges = (draft?.from ?? []) + (draft?.stageReferences ?? []).map { (id: $0.id, node: $0.node) }
            for reference in edges where firstByID[reference.id] != nil {
                switch marks[reference.id] {
                case .visiting:
                    let start = path.firstIndex(of: reference.id) ?? 0
                    let cycle = Array(path[start...])
                    if reported.insert(Set(cycle)).inserted {
                        let first = stages.first { $0.id.map(cycle.contains) ?? false }
                        reader.error(
                            at: first?.node,
                            "stages form a cycle: \((cycle + [reference.id]).joined(separator: " -> "))",
                            hint: "data must flow one way; remove one of these 'from:' (or search tool) references")
                    }
                case .done:
                    continue
                case nil:
                    visit(reference.id)
                }
            }
            path.removeLast()
            marks[id] = .done
        }
        for stage in stages {
            if let id = stage.id, marks[id] == nil { visit(id) }
        }
    }
}
