import KilnBasics
import KilnModel
import Yams

/// Reads the type-specific keys of one stage.
struct StageReader {
    let builder: PipelineBuilder
    let fields: Fields
    /// "stage 'judge'", for messages.
    let label: String
    var providerReferences: [(name: String, node: Node)] = []
    /// References to other stages besides `from:` (a search tool's index), checked with the graph.
    var stageReferences: [(id: String, node: Node, type: StageType)] = []

    var reader: NodeReader { builder.reader }

    init(builder: PipelineBuilder, fields: Fields, label: String) {
        self.builder = builder
        self.fields = fields
        self.label = label
    }

    mutating func read(_ type: StageType) -> StageSettings? {
        switch type {
        case .load: readLoad().map(StageSettings.load)
        case .topics: readTopics().map(StageSettings.topics)
        case .inputs: readInputs().map(StageSettings.inputs)
        case .outputs: readOutputs().map(StageSettings.outputs)
        case .judge: readJudge().map(StageSettings.judge)
        case .split: readSplit().map(StageSettings.split)
        case .export: readExport().map(StageSettings.export)
        case .ingest: readIngest().map(StageSettings.ingest)
        case .index: readIndex().map(StageSettings.index)
        case .qna: readQna().map(StageSettings.qna)
        }
    }

    /// A required key: reports it missing at the stage, with an example.
    func require(_ key: String, example: String) -> Node? {
        if let node = fields[key] { return node }
        reader.error(
            at: fields.node, "\(label) is missing required key '\(key)'", hint: "for example \(key): \(example)")
        return nil
    }

    /// A provider name, remembered for the reference check once all providers are known.
    mutating func provider(_ node: Node?, _ key: String) -> String? {
        guard let node, let name = reader.string(node, key) else { return nil }
        providerReferences.append((name, node))
        return name
    }

    /// `dedup`, `min_chars`, `max_chars` of the generation stages.
    func qualityFilters() -> QualityFilters? {
        let dedup: DedupMode? = reader.choice(fields["dedup"], "dedup")
        let minChars = reader.int(fields["min_chars"], "min_chars", in: 0...Int.max)
        let maxChars = reader.int(fields["max_chars"], "max_chars", in: 1...Int.max)
        if let minChars, let maxChars, minChars > maxChars {
            reader.error(
                at: fields["max_chars"], "max_chars (\(maxChars)) is below min_chars (\(minChars))",
                hint: "no item could pass both filters")
            return nil
        }
        return QualityFilters(dedup: dedup ?? .none, minChars: minChars, maxChars: maxChars)
    }

    /// A Kiln dataset filter id.
    func datasetFilter(_ node: Node?) -> DatasetFilter? {
        guard let node, let text = reader.string(node, "filter") else { return nil }
        do {
            return try DatasetFilter(parsing: text)
        } catch {
            reader.error(at: node, error.message, hint: error.hint)
            return nil
        }
    }
}
