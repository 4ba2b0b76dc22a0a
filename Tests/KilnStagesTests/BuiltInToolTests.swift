import KilnModel
import KilnProviders
import Testing

@testable import KilnStages

/// Kiln's built-in math tools give Kiln's results (Python's `str()` of the number), and errors go back to the model.
@Suite struct BuiltInToolResults {
    @Test(arguments: [
        ("add", #"{"a": 2, "b": 3}"#, "5", false), ("add", #"{"a": 2.5, "b": 1}"#, "3.5", false),
        ("subtract", #"{"a": 18, "b": 6}"#, "12", false), ("multiply", #"{"a": 7, "b": 6}"#, "42", false),
        ("multiply", #"{"a": 0.1, "b": 3}"#, "0.30000000000000004", false),
        ("divide", #"{"a": 12, "b": 6}"#, "2.0", false),
        ("divide", #"{"a": 1, "b": 0}"#, "Error: Cannot divide by zero", true),
        ("add", #"{"a": 9223372036854775807, "b": 1}"#, "9.223372036854776e+18", false),
        ("add", #"{"a": "two", "b": 3}"#, "Error: 'add' takes two numbers, a and b", true),
        ("add", "not json", "Error: the arguments of 'add' are not a JSON object: not json", true),
        ("power", #"{"a": 2, "b": 3}"#, "Error: no tool named 'power' was offered", true),
    ])
    func resultsAreKilns(name: String, arguments: String, output: String, isError: Bool) async throws {
        let tools = ToolBox(ids: BuiltInTools.math.map(\.id))
        let result = await tools.run(ToolCall(id: "call_1", name: name, arguments: arguments))
        #expect(result == (isError ? .error(output) : .output(output)))
    }

    /// A math tool the stage did not list is not run.
    @Test func aToolNotOfferedIsNotRun() async {
        let tools = ToolBox(ids: ["kiln_tool::add_numbers"])
        let result = await tools.run(ToolCall(id: "c", name: "multiply", arguments: #"{"a": 2, "b": 3}"#))
        #expect(result == .error("Error: no tool named 'multiply' was offered"))
    }
}
