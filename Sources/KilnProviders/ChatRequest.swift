import Foundation
package import KilnBasics
package import KilnModel

/// An image sent with a message (a scanned page, a photo), inline as base64.
package struct ChatImage: Sendable, Hashable {
    package var mediaType: String
    package var base64: String

    package init(mediaType: String, bytes: [UInt8]) {
        self.mediaType = mediaType
        base64 = Data(bytes).base64EncodedString()
    }
}

/// A model's request to call a tool: the call's id, the tool's name and its arguments (JSON text, as sent).
package struct ToolCall: Sendable, Hashable {
    package var id: String
    package var name: String
    package var arguments: String

    package init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// The OpenAI shape in the key order Kiln's traces keep (its TypedDicts'): `{"id", "function": {"arguments",
    /// "name"}, "type": "function"}` — so a run Kiln reads back formats to the same bytes kiln-pipe exports.
    package var json: JSONValue {
        .object(
            JSONObject([
                ("id", .string(id)),
                ("function", .object(JSONObject([("arguments", .string(arguments)), ("name", .string(name))]))),
                ("type", .string("function")),
            ]))
    }
}

/// One message of a chat conversation.
package struct ChatMessage: Sendable, Hashable {
    package var role: String
    package var content: String
    /// Images after the text (vision models).
    package var images: [ChatImage]
    /// An assistant's tool calls.
    package var toolCalls: [ToolCall]
    /// A tool result's call id (`role` is `tool`).
    package var toolCallID: String?

    package init(
        role: String, content: String, images: [ChatImage] = [], toolCalls: [ToolCall] = [], toolCallID: String? = nil
    ) {
        self.role = role
        self.content = content
        self.images = images
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    /// A tool's result for the call `id`.
    package static func tool(_ content: String, callID: String) -> ChatMessage {
        ChatMessage(role: "tool", content: content, toolCallID: callID)
    }

    package static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    package static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    package static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A request for JSON output matching `schema`.
package struct StructuredOutputSpec: Sendable, Hashable {
    /// Name of the schema / function, e.g. `task_response`.
    package var name: String
    package var schema: JSONValue

    package init(name: String = "task_response", schema: JSONValue) {
        self.name = name
        self.schema = schema
    }
}

/// What a stage asks of a model, independent of any provider's wire format.
package struct ChatRequest: Sendable, Hashable {
    package var messages: [ChatMessage]
    /// Overrides of the provider's default parameters.
    package var params: ModelParams
    package var structured: StructuredOutputSpec?
    /// Ask for token logprobs with this many alternatives per token (g_eval); nil for none.
    package var topLogprobs: Int?
    /// Choices per request.
    package var choices: Int
    /// The tools the model may call (`{"type": "function", "function": {name, description, parameters}}`).
    package var tools: [JSONValue]

    package init(
        messages: [ChatMessage], params: ModelParams = ModelParams(), structured: StructuredOutputSpec? = nil,
        topLogprobs: Int? = nil, choices: Int = 1, tools: [JSONValue] = []
    ) {
        self.messages = messages
        self.params = params
        self.structured = structured
        self.topLogprobs = topLogprobs
        self.choices = choices
        self.tools = tools
    }
}
