import KilnBasics
import KilnModel
import Yams

extension PipelineBuilder {
    static let commonStageKeys = ["id", "type", "from", "description"]

    /// Keys each stage type takes besides the common ones.
    static func stageKeys(for type: StageType) -> [String] {
        switch type {
        case .load: ["path", "format", "kiln_project", "task_id", "filter", "fields", "on_error", "limit", "encoding"]
        case .topics: ["provider", "root", "depth", "breadth", "seed_topics", "guidance", "emit"]
        case .inputs: ["provider", "per_topic", "guidance", "dedup", "min_chars", "max_chars"]
        case .outputs:
            [
                "models", "samples", "thinking", "dedup", "min_chars", "max_chars", "tools", "max_tool_calls",
                "max_turns", "prompts", "params",
            ]
        case .judge:
            ["provider", "method", "score", "rubric", "chain_of_thought", "assertions", "thresholds", "max_error_rate"]
        case .split: ["filter", "where", "preset", "splits", "seed", "group_by"]
        case .export:
            ["format", "strategy", "target", "out", "parts", "system_message", "thinking_instructions", "kiln_project"]
        case .ingest:
            ["paths", "max_file_mb", "max_pages", "chunker", "extraction_provider", "encoding", "follow_symlinks"]
        case .index: ["path", "embeddings"]
        case .qna: ["provider", "per_chunk", "guidance"]
        }
    }

    mutating func readStages(_ node: Node?) -> [StageDraft] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            reader.error(
                at: node, "expected a list of stages for 'stages', got \(reader.describe(node))",
                hint: "write each stage as a '- id: ...' item")
            return []
        }
        if sequence.isEmpty {
            reader.error(
                at: node, "the pipeline has no stages",
                hint: "add at least one stage, e.g. '- {id: data, type: load, path: data.jsonl}'")
        }
        return sequence.compactMap { readStage($0) }
    }

    private func readStage(_ node: Node) -> StageDraft? {
        guard case .mapping(let mapping) = node else {
            reader.error(at: node, "expected a stage (a mapping with id and type), got \(reader.describe(node))")
            return nil
        }
        // The type decides which keys are allowed, so read it before checking keys.
        let typeNode = mapping.first { $0.key.string == "type" }?.value
        let idNode = mapping.first { $0.key.string == "id" }?.value
        let id = idNode.flatMap { reader.string($0, "id") }
        let label = id.map { "stage '\($0)'" } ?? "a stage"
        let type: StageType? = typeNode.flatMap { reader.choice($0, "stage type") }
        let allowed = Self.commonStageKeys + (type.map(Self.stageKeys) ?? [])
        let fields: Fields?
        if type != nil {
            fields = reader.fields(node, context: label, allowed: allowed, required: ["id", "type"])
        } else {
            // Without a known type its keys cannot be judged: report the type (or its absence) only.
            if typeNode == nil {
                reader.error(
                    at: node, "\(label) is missing required key 'type'",
                    hint: NearMiss.hint(for: "", among: StageType.allCases.map(\.rawValue), listing: "stage types"))
            }
            if idNode == nil { reader.error(at: node, "\(label) is missing required key 'id'") }
            fields = Fields(
                node: node, context: label,
                entries: mapping.compactMap { key, value in key.string.map { ($0, key, value) } })
        }
        if let id, !Self.isValidStageID(id) {
            reader.error(
                at: idNode, "invalid stage id '\(id)'",
                hint:
                    "start with a letter and use only letters, digits, '_' and '-': ids name checkpoint "
                    + "entries and report files"
            )
        }
        let from = (reader.strings(fields?["from"], "from") ?? []).map { (id: $0.value, node: $0.node) }
        var draft = StageDraft(id: id, type: type, node: node, idNode: idNode, from: from)
        guard let type, let fields else { return draft }
        var stage = StageReader(builder: self, fields: fields, label: label)
        draft.settings = stage.read(type)
        draft.providerReferences = stage.providerReferences
        draft.stageReferences = stage.stageReferences
        return draft
    }

    static func isValidStageID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else {
            return false
        }
        return isValidName(id) && !id.contains(".")
    }
}
