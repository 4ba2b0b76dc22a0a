import KilnBasics
import KilnModel

/// What became of one unit of work: the items it produced (served from the store or computed), or why it failed.
enum UnitResult: Sendable {
    case done([PipelineItem], cached: Bool, usage: Usage, requests: Int)
    case failed(String, usage: Usage, requests: Int)
    case stopped(RunStop)
}

/// A stage that turns each incoming item into units of work run concurrently (outputs, inputs).
protocol UnitStage: Sendable {
    associatedtype Unit: Sendable
    /// The units an incoming item asks for (outputs: one per model and sample; inputs: one per topic).
    func units(for item: PipelineItem) -> [Unit]
    func run(_ unit: Unit) async -> UnitResult
    /// The item field the stage's quality filters look at (`input` for inputs, `output` for outputs).
    var filteredField: String { get }
    var filters: QualityFilters { get }
}

extension PipelineItem {
    /// Several items as one checkpointed value.
    static func encode(_ items: [PipelineItem]) -> JSONValue { .array(items.map(\.json)) }

    /// Items from a checkpointed value (an array, or one item from a single-item stage).
    static func decode(_ value: JSONValue) -> [PipelineItem]? {
        if let array = value.arrayValue {
            let items = array.compactMap(PipelineItem.init(json:))
            return items.count == array.count ? items : nil
        }
        return PipelineItem(json: value).map { [$0] }
    }
}
