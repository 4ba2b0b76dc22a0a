/// The kinds of stage a pipeline can declare, and which kinds each may read from.
package enum StageType: String, Sendable, Hashable, CaseIterable {
    case load
    case topics
    case inputs
    case outputs
    case judge
    case split
    case export
    case ingest
    case index
    case qna

    /// Stage types whose items this type can take through `from:`; empty for source stages.
    package var acceptedInputs: [StageType] {
        switch self {
        case .load, .topics, .ingest: []
        case .inputs: [.topics]
        case .outputs: [.inputs, .load, .qna]
        case .judge: [.outputs, .load]
        case .split: [.outputs, .judge, .load]
        case .export: [.split, .outputs, .judge, .load]
        case .index: [.ingest]
        case .qna: [.ingest]
        }
    }

    /// Source stages produce items from files or a model and take no `from:`.
    package var isSource: Bool { acceptedInputs.isEmpty }

    /// Whether the stage needs its whole input before it can emit anything (a barrier in the stream).
    package var needsWholeInput: Bool {
        switch self {
        case .split, .export, .index: true
        default: false
        }
    }

    /// What one item of this stage's output is, for messages.
    package var itemNoun: String {
        switch self {
        case .load: "loaded records"
        case .topics: "topic paths"
        case .inputs: "model inputs"
        case .outputs: "task outputs"
        case .judge: "judged outputs"
        case .split: "dataset splits"
        case .export: "export files"
        case .ingest: "document chunks"
        case .index: "a search index"
        case .qna: "question and answer pairs"
        }
    }
}
