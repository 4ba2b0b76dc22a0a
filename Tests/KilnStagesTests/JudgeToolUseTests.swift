import KilnBasics
import KilnModel
import Testing

@testable import KilnStages

/// A judge of an agent's answer reads the tools it called and what they returned.
@Suite struct JudgeToolUse {
    @Test func theTraceBecomesOneLinePerCallAndResult() {
        let item = ToolAssertions.item
        let trace = item.fields["trace"]
        var withResults = trace?.arrayValue ?? []
        withResults.append(
            .object(
                JSONObject([("role", .string("tool")), ("content", .string("5")), ("tool_call_id", .string("c1"))])))
        #expect(
            JudgePrompts.toolUse(of: .array(withResults))
                == "call add({\"a\": 2, \"b\": 3})\ncall divide({\"a\":12,\"b\":6})\nresult of add: 5")
        #expect(JudgePrompts.toolUse(of: nil) == nil)
        let prompt = JudgePrompts.user(
            task: TaskDefinition(instruction: "Add."), rubric: [], overall: .fiveStar, input: "q", output: "5",
            expected: nil, chainOfThought: true, toolUse: "call add({})")
        #expect(prompt.contains("</input>\n\n<tool_use>\ncall add({})\n</tool_use>\n\n<output>\n5\n</output>"))
        // Without tool use the prompt is what it always was (cached verdicts stay valid).
        let plain = JudgePrompts.user(
            task: TaskDefinition(instruction: "Add."), rubric: [], overall: .fiveStar, input: "q", output: "5",
            expected: nil, chainOfThought: true)
        #expect(plain.contains("</input>\n\n<output>\n5\n</output>"))
    }
}
