package import KilnBasics

/// One stage of the pipeline graph, with its type-specific settings.
package struct StageSpec: Sendable, Hashable {
    package var id: String
    package var type: StageType { settings.type }
    /// Ids of the stages this one reads from, in the order written.
    package var from: [String]
    package var description: String?
    package var settings: StageSettings
    /// Where the stage's mapping starts in the pipeline file.
    package var location: SourceLocation

    package init(
        id: String, from: [String] = [], description: String? = nil, settings: StageSettings,
        location: SourceLocation
    ) {
        self.id = id
        self.from = from
        self.description = description
        self.settings = settings
        self.location = location
    }
}

/// The settings of a stage, one case per stage type.
package enum StageSettings: Sendable, Hashable {
    case load(LoadSettings)
    case topics(TopicsSettings)
    case inputs(InputsSettings)
    case outputs(OutputsSettings)
    case judge(JudgeSettings)
    case split(SplitSettings)
    case export(ExportSettings)
    case ingest(IngestSettings)
    case index(IndexSettings)
    case qna(QnaSettings)

    package var type: StageType {
        switch self {
        case .load: .load
        case .topics: .topics
        case .inputs: .inputs
        case .outputs: .outputs
        case .judge: .judge
        case .split: .split
        case .export: .export
        case .ingest: .ingest
        case .index: .index
        case .qna: .qna
        }
    }

    /// Stages this one waits for besides those it reads from: the index stages its search tools search.
    package var waitsFor: [String] {
        if case .outputs(let settings) = self { return settings.tools.searchedIndexes }
        return []
    }

    /// Names of the providers this stage calls.
    package var providerNames: [String] {
        switch self {
        case .topics(let settings): [settings.provider]
        case .inputs(let settings): [settings.provider]
        case .outputs(let settings):
            settings.tools.allSubTasks.map(\.model).reduce(into: settings.models) { names, model in
                if !names.contains(model) { names.append(model) }
            }
        case .judge(let settings):
            (settings.provider.map { [$0] } ?? []) + settings.assertions.compactMap { $0.embeddings?.provider }
        case .ingest(let settings): settings.extractionProvider.map { [$0] } ?? []
        case .index(let settings): settings.embeddings.map { [$0.provider] } ?? []
        case .qna(let settings): [settings.provider]
        case .load, .split, .export: []
        }
    }
}
