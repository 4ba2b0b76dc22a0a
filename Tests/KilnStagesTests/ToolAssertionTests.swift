import KilnBasics
import KilnModel
import Testing

@testable import KilnStages

/// The agent assertions read the item's trace: which tools were called, with which arguments, how often.
@Suite struct ToolAssertions {
    /// An item whose trace called add(2, 3) and then divide(12, 6).
    static let item: PipelineItem = {
        let call = { (id: String, name: String, arguments: String) in
            JSONValue.object(
                JSONObject([
                    ("id", .string(id)),
                    ("function", .object(JSONObject([("arguments", .string(arguments)), ("name", .string(name))]))),
                    ("type", .string("function")),
                ]))
        }
        let trace: [JSONValue] = [
            .object(JSONObject([("role", .string("user")), ("content", .string("q"))])),
            .object(
                JSONObject([
                    ("role", .string("assistant")), ("content", .null),
                    (
                        "tool_calls",
                        .array([call("c1", "add", #"{"a": 2, "b": 3}"#), call("c2", "divide", #"{"a":12,"b":6}"#)])
                    ),
                ])),
        ]
        return PipelineItem(
            id: "x", fields: JSONObject([("output", .string("The answer is 5.")), ("trace", .array(trace))]))
    }()

    @Test(
        arguments: [
            (Assertion.Kind.toolCalled, nil, [:], true), (.toolCalled, "add", [:], true),
            (.toolCalled, "multiply", [:], false),
            (.toolCalled, "add", ["$.a": JSONValue.integer(2)], true),
            (.toolCalled, "add", ["$.a": .double(2.0)], true),
            (.toolCalled, "add", ["$.a": .integer(3)], false), (.toolNotCalled, "multiply", [:], true),
            (.toolNotCalled, "divide", [:], false), (.toolNotCalled, nil, [:], false),
        ] as [(Assertion.Kind, String?, [String: JSONValue], Bool)])
    func callsAreReadFromTheTrace(kind: Assertion.Kind, tool: String?, arguments: [String: JSONValue], passes: Bool) {
        var assertion = Assertion(name: kind.rawValue, kind: kind, value: tool)
        assertion.arguments = arguments
        #expect(AssertionCheck.evaluate(assertion, item: Self.item, taskSchema: nil).passed == passes)
    }

    @Test(arguments: [(1, false), (2, true)])
    func maxToolCallsCountsEveryCall(limit: Int, passes: Bool) {
        let assertion = Assertion(name: "max_tool_calls", kind: .maxToolCalls, value: String(limit))
        let outcome = AssertionCheck.evaluate(assertion, item: Self.item, taskSchema: nil)
        #expect(outcome.passed == passes)
        if !passes { #expect(outcome.reason == "2 tool calls, limit 1") }
    }
}
