import KilnBasics
import KilnModel
import KilnProject
import Yams

/// When the pipeline writes into a Kiln project (`export: kiln_project:`): a name Kiln's `name` fields reject is
/// shown with the name written instead (a warning: Kiln loads the project), and rubric items or assertions whose
/// scores Kiln would key alike, or could not key at all, are errors (Kiln could not load their eval runs).
struct KilnNameCheck {
    let reader: NodeReader
    let root: Node
    let pipelineName: String
    let task: TaskDefinition?
    let stages: [StageDraft]

    func run() {
        let writesKiln = stages.contains { stage in
            if case .export(let settings) = stage.settings { return settings.kilnProject != nil }
            return false
        }
        guard writesKiln else { return }
        checkName(pipelineName, at: root["name"] ?? root) { "pipeline name '\($0)' (it names the dataset split)" }
        // A task read from a Kiln project has Kiln's names already.
        if let task, task.origin == .inline {
            let taskNode = root["task"]
            checkName(task.name ?? pipelineName, at: taskNode?["name"] ?? root["name"] ?? taskNode) {
                "task name '\($0)'"
            }
            checkScores(task.requirements.map(\.name), nodes: Self.nameNodes(taskNode?["requirements"])) {
                "requirement '\($0)'"
            }
        }
        for stage in stages {
            guard case .judge(let settings) = stage.settings, let id = stage.id else { continue }
            // The rubric is the task's requirements when the stage has none: those were checked above.
            let rubric = settings.rubric.isEmpty ? [] : settings.rubric.map(\.name)
            let rubricNodes = Self.nameNodes(stage.node["rubric"])
            let assertionNodes = Self.nameNodes(stage.node["assertions"])
            checkScores(
                rubric + settings.assertions.map(\.name),
                nodes: (settings.rubric.isEmpty ? [] : rubricNodes) + assertionNodes, fallback: stage.node,
                also: settings.rubric.isEmpty ? (task?.requirements ?? []).map(\.name) : []
            ) { "score '\($0)' of stage '\(id)'" }
        }
    }

    /// Warns when Kiln would not take `name` as it is, saying what is written instead.
    private func checkName(
        _ name: String, at node: Node?, limit: Int = KilnNames.maxLength, what: (String) -> String
    ) {
        let accepted = KilnNames.accepted(name, limit: limit)
        guard accepted != name else { return }
        reader.warning(
            at: node, "\(what(name)) is written to the Kiln project as '\(accepted)'",
            hint: "Kiln names hold at most \(limit) characters and none of \(KilnNames.forbiddenList), runs of "
                + "spaces or '_', or a space or '_' at either end; rename it to choose the name yourself")
    }

    /// Each name Kiln keys a score by: mapped names are shown; two names with one key, or a name with no key,
    /// are errors. `also` are names scored beside these whose own places were checked elsewhere.
    private func checkScores(
        _ names: [String], nodes: [Node?], fallback: Node? = nil, also: [String] = [], what: (String) -> String
    ) {
        var keys: [String: String] = ["overall": "overall"]
        for name in also { keys[KilnNames.scoreKey(name)] = name }
        for (index, name) in names.enumerated() {
            let node = index < nodes.count ? nodes[index] ?? fallback : fallback
            checkName(name, at: node, limit: KilnNames.shortMaxLength, what: what)
            let key = KilnNames.scoreKey(name)
            if key.isEmpty {
                reader.error(
                    at: node, "\(what(name)) gives Kiln no score key (Kiln keeps only a-z, 0-9 and '_')",
                    hint: "name it with some Latin letters or digits, e.g. 'tone' or 'accuracy'")
            } else if let other = keys[key], other != name {
                reader.error(
                    at: node, "\(what(name)) and '\(other)' both become the Kiln score key '\(key)'",
                    hint: "Kiln keys a score by its name lower-cased, spaces as '_', other characters dropped: "
                        + "give them names that differ in letters or digits")
            } else {
                keys[key] = name
            }
        }
    }

    /// The `name:` node of each entry of a YAML list (nil for an entry without one).
    static func nameNodes(_ list: Node?) -> [Node?] {
        guard case .sequence(let sequence) = list else { return [] }
        return sequence.map { $0["name"] ?? $0 }
    }
}
