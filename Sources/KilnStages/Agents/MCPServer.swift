import Foundation
import KilnBasics
import KilnExport
import KilnModel

/// An MCP server whose tools an agent calls: one kiln-pipe starts over stdio, or one it reaches over streamable
/// HTTP. Both speak JSON-RPC 2.0: `initialize`, `tools/list`, `tools/call`.
protocol MCPServer: AnyObject, Sendable {
    var spec: MCPServerSpec { get }
    /// Whether the server can take calls (its process runs; its HTTP session is open).
    var isRunning: Bool { get }
    /// Starts it (or opens the session) and does the MCP handshake.
    func start() async throws
    /// Sends one JSON-RPC request; its result, or the error it answered (`MCPFailure`).
    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue
    func stop()
}

extension MCPServer {
    /// The server's tools: name, description and input schema.
    func listTools() async throws -> [MCPTool] {
        MCPMessages.tools(in: try await request("tools/list", JSONValue.object(JSONObject())))
    }

    /// Calls a tool: its output as Kiln reads it, and whether it is an error.
    func call(_ name: String, arguments: JSONValue) async throws -> (text: String, isError: Bool) {
        let result = try await request(
            "tools/call", JSONValue.object(JSONObject([("name", .string(name)), ("arguments", arguments)])))
        return MCPMessages.output(of: result)
    }
}

/// One tool an MCP server lists.
struct MCPTool: Sendable {
    var name: String
    var description: String
    var schema: JSONValue
}

/// Why an MCP call could not be made: the server is gone (with what it said), or it answered with an error.
struct MCPFailure: Error, CustomStringConvertible {
    var description: String
    /// The server exited or could not be reached, as opposed to answering with an error.
    var serverGone = false
}

/// The JSON-RPC messages of MCP's client side, whatever carries them.
enum MCPMessages {
    static func request(id: Int, method: String, params: JSONValue) -> JSONValue {
        .object(
            JSONObject([
                ("jsonrpc", .string("2.0")), ("id", .integer(id)), ("method", .string(method)), ("params", params),
            ]))
    }

    static let initialized = JSONValue.object(
        JSONObject([("jsonrpc", .string("2.0")), ("method", .string("notifications/initialized"))]))

    static let protocolVersion = "2025-06-18"

    static let initializeParams = JSONValue.object(
        JSONObject([
            ("protocolVersion", .string(protocolVersion)), ("capabilities", .object(JSONObject())),
            ("clientInfo", .object(JSONObject([("name", .string("kiln-pipe")), ("version", .string("1"))]))),
        ]))

    /// The result of a JSON-RPC answer, or the error it carries.
    static func result(of message: JSONValue, server: String) -> Result<JSONValue, MCPFailure> {
        if let error = message["error"], error != .null {
            let text = error["message"]?.stringValue ?? error.serialized()
            return .failure(MCPFailure(description: "MCP server '\(server)': \(text)"))
        }
        return .success(message["result"] ?? .null)
    }

    static func tools(in result: JSONValue) -> [MCPTool] {
        (result["tools"]?.arrayValue ?? []).compactMap { tool in
            guard let name = tool["name"]?.stringValue else { return nil }
            return MCPTool(
                name: name, description: tool["description"]?.stringValue ?? "",
                schema: tool["inputSchema"] ?? JSONValue.object(JSONObject([("type", .string("object"))])))
        }
    }

    /// What Kiln 1.2.0's `MCPServerTool.run` makes of a `tools/call` result: an error's text blocks joined by a
    /// space; structured content as Python's `json.dumps`; else the one text block (other shapes are errors).
    static func output(of result: JSONValue) -> (text: String, isError: Bool) {
        let blocks = result["content"]?.arrayValue ?? []
        if result["isError"] == .bool(true) {
            let text = blocks.filter { $0["type"]?.stringValue == "text" }.compactMap { $0["text"]?.stringValue }
                .joined(separator: " ")
            return (text.isEmpty ? "Unknown error" : text, true)
        }
        if let structured = result["structuredContent"], structured != .null {
            guard structured.objectValue != nil else { return ("Tool returned invalid structured content", true) }
            return (PythonJSON.dumps(structured), false)
        }
        guard let first = blocks.first else { return ("Tool returned no content", true) }
        guard first["type"]?.stringValue == "text", let text = first["text"]?.stringValue else {
            return ("First block must be a text block", true)
        }
        guard blocks.count == 1 else { return ("Tool returned multiple content blocks, expected one", true) }
        return (text, false)
    }
}
