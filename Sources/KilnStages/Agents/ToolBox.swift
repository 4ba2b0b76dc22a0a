import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnProviders

/// The tools of an `outputs` stage: their definitions (what the model is offered, and what exports write) and how
/// each runs. Kiln 1.2.0's built-in math tools run here, with Kiln's results (`str(a + b)` in Python: `5`, `2.5`,
/// `2.0` for a division).
struct ToolBox: Sendable {
    /// Kiln tool ids, in the order the stage lists them.
    let ids: [String]
    /// Their definitions, in the same order.
    let definitions: [JSONValue]
    /// Function name -> Kiln tool id.
    private let byName: [String: String]

    init(ids: [String]) throws(ExportError) {
        self.ids = ids
        definitions = try KilnToolDefinitions.definitions(for: ids)
        byName = Dictionary(
            BuiltInTools.math.filter { ids.contains($0.id) }.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether the model was offered a tool of this name.
    func offers(_ name: String) -> Bool { byName[name] != nil }

    /// The result of one call: the text sent back to the model, and whether it is an error (sent back too: the
    /// model may recover, as with Kiln's tool errors).
    func run(_ call: ToolCall) -> (output: String, isError: Bool) {
        guard byName[call.name] != nil else { return ("Error: no tool named '\(call.name)' was offered", true) }
        guard let arguments = try? JSONValue(parsing: call.arguments), arguments.objectValue != nil else {
            return ("Error: the arguments of '\(call.name)' are not a JSON object: \(call.arguments)", true)
        }
        guard let a = arguments["a"], let b = arguments["b"], let x = a.numberValue, let y = b.numberValue else {
            return ("Error: '\(call.name)' takes two numbers, a and b", true)
        }
        // Python keeps integers whole and writes floats by repr; a division is always a float.
        func whole(_ operation: (Int, Int) -> (partialValue: Int, overflow: Bool), _ real: Double) -> String {
            guard case .integer(let i) = a, case .integer(let j) = b else { return PythonJSON.repr(real) }
            let result = operation(i, j)
            return result.overflow ? PythonJSON.repr(real) : String(result.partialValue)
        }
        switch call.name {
        case "add": return (whole({ $0.addingReportingOverflow($1) }, x + y), false)
        case "subtract": return (whole({ $0.subtractingReportingOverflow($1) }, x - y), false)
        case "multiply": return (whole({ $0.multipliedReportingOverflow(by: $1) }, x * y), false)
        case "divide":
            guard y != 0 else { return ("Error: Cannot divide by zero", true) }
            return (PythonJSON.repr(x / y), false)
        default: return ("Error: no tool named '\(call.name)' was offered", true)
        }
    }
}
