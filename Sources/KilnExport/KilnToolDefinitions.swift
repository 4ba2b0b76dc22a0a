package import KilnBasics
import KilnModel

/// The definitions Kiln writes into training data for the tools a run could call
/// (`{"type": "function", "function": {name, description, parameters}}`), for the tools kiln-pipe can describe
/// without running them: Kiln 1.2.0's built-in math tools, byte for byte as its `toolcall_definition()` gives them.
package enum KilnToolDefinitions {
    /// Tool id -> (description, the two parameters' descriptions); the function name is `BuiltInTools.math`'s.
    static let builtIn: [String: (description: String, a: String, b: String)] = [
        "kiln_tool::add_numbers": (
            "Add two numbers together and return the result", "The first number to add", "The second number to add"
        ),
        "kiln_tool::subtract_numbers": (
            "Subtract the second number from the first number and return the result", "The first number (minuend)",
            "The second number to subtract (subtrahend)"
        ),
        "kiln_tool::multiply_numbers": (
            "Multiply two numbers together and return the result", "The first number to multiply",
            "The second number to multiply"
        ),
        "kiln_tool::divide_numbers": (
            "Divide the first number by the second number and return the result",
            "The dividend (number to be divided)", "The divisor (number to divide by)"
        ),
    ]

    /// The definitions of `ids`, in order; a tool kiln-pipe cannot describe is Kiln's error, with what to do.
    package static func definitions(for ids: [String]) throws(ExportError) -> [JSONValue] {
        try ids.map { id throws(ExportError) -> JSONValue in
            guard let tool = builtIn[id], let name = BuiltInTools.math.first(where: { $0.id == id })?.name else {
                throw ExportError(
                    message:
                        "Failed to get tool definition for tool ID '\(id)': kiln-pipe describes Kiln's built-in math "
                        + "tools (\(builtIn.keys.sorted().joined(separator: ", "))) only; export this split from the "
                        + "Kiln app, which asks the tool's server")
            }
            let number = { (description: String) in
                JSONValue.object(JSONObject([("type", .string("number")), ("description", .string(description))]))
            }
            let parameters = JSONObject([
                ("type", .string("object")),
                ("properties", .object(JSONObject([("a", number(tool.a)), ("b", number(tool.b))]))),
                ("required", .array([.string("a"), .string("b")])),
            ])
            return function(name: name, description: tool.description, parameters: .object(parameters))
        }
    }

    /// A tool definition in OpenAI's shape, as Kiln's `toolcall_definition()` writes it:
    /// `{"type": "function", "function": {name, description, parameters}}`.
    package static func function(name: String, description: String, parameters: JSONValue) -> JSONValue {
        let function = JSONObject([
            ("name", .string(name)), ("description", .string(description)), ("parameters", parameters),
        ])
        return .object(JSONObject([("type", .string("function")), ("function", .object(function))]))
    }
}
