import KilnBasics
import Testing

@testable import KilnStages

/// An MCP tool's result becomes what Kiln 1.2.0's `MCPServerTool.run` sends the model.
@Suite struct MCPToolOutputs {
    @Test(arguments: [
        (
            #"{"content": [{"type": "text", "text": "81.0"}], "structuredContent": {"result": "81.0"}}"#,
            #"{"result": "81.0"}"#, false
        ),
        (#"{"content": [{"type": "text", "text": "81.0"}]}"#, "81.0", false),
        (
            #"{"content": [{"type": "text", "text": "bad"}, {"type": "text", "text": "input"}], "isError": true}"#,
            "bad input", true
        ),
        (#"{"content": [], "isError": true}"#, "Unknown error", true),
        (#"{"content": []}"#, "Tool returned no content", true),
        (#"{"content": [{"type": "image", "data": "x"}]}"#, "First block must be a text block", true),
        (
            #"{"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}"#,
            "Tool returned multiple content blocks, expected one", true
        ),
        (#"{"content": [], "structuredContent": [1]}"#, "Tool returned invalid structured content", true),
    ])
    func resultsReadAsKilnReadsThem(_ result: String, _ text: String, _ isError: Bool) throws {
        let output = MCPMessages.output(of: try JSONValue(parsing: result))
        #expect(output.text == text)
        #expect(output.isError == isError)
    }
}
