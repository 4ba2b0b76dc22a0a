import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import Synchronization

/// An MCP server reached over streamable HTTP (MCP 2025-03-26 and later): each JSON-RPC message is POSTed to the
/// endpoint with the configured headers, the answer comes back as JSON or as server-sent events, and the session
/// the server opens (`Mcp-Session-Id`) goes with every later request. A server that cannot be reached, answers
/// 5xx, or has forgotten the session (404) counts as gone: the tool box opens a new session once, then fails the
/// item with what happened.
final class MCPHTTPServer: MCPServer {
    let spec: MCPServerSpec
    private let transport = CurlTransport(maxConnections: 8)
    private let endpoint: URL?

    private struct State {
        var session: String?
        var open = false
        var nextID = 1
    }
    private let state = Mutex(State())

    /// Seconds one request may take.
    static let timeout = 60.0

    init(spec: MCPServerSpec) {
        self.spec = spec
        endpoint = spec.url.flatMap(URL.init(string:))
    }

    deinit { transport.shutdown() }

    var isRunning: Bool { state.withLock { $0.open } }

    func start() async throws {
        state.withLock { $0 = State() }
        _ = try await request("initialize", MCPMessages.initializeParams)
        _ = try await post(MCPMessages.initialized)
        state.withLock { $0.open = true }
    }

    func stop() { state.withLock { $0.open = false } }

    func request(_ method: String, _ params: JSONValue) async throws -> JSONValue {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let response = try await post(MCPMessages.request(id: id, method: method, params: params))
        guard let answer = Self.messages(in: response).first(where: { $0["id"]?.numberValue.map { Int($0) } == id })
        else {
            let body = String(decoding: response.body, as: UTF8.self).excerpt(200)
            throw MCPFailure(
                description: "MCP server '\(spec.name)' at \(RedactedURL.of(spec.url ?? "")) sent no answer to "
                    + "\(method) (HTTP \(response.status): \(body))",
                serverGone: true)
        }
        return try MCPMessages.result(of: answer, server: spec.name).get()
    }

    /// POSTs one message; keeps the session the server opens.
    private func post(_ message: JSONValue) async throws -> HTTPResponse {
        guard let endpoint, let scheme = endpoint.scheme, ["http", "https"].contains(scheme) else {
            throw MCPFailure(description: "MCP server '\(spec.name)': '\(spec.url ?? "")' is not an http(s) URL")
        }
        var headers = spec.headers
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json, text/event-stream"
        headers["MCP-Protocol-Version"] = MCPMessages.protocolVersion
        if let session = state.withLock({ $0.session }) { headers["Mcp-Session-Id"] = session }
        let body = Data(message.serialized().utf8)
        let result = await withCheckedContinuation { continuation in
            transport.start(method: .post, url: endpoint, headers: headers, body: body, timeout: Self.timeout) {
                continuation.resume(returning: $0)
            }
        }
        let place = "MCP server '\(spec.name)' at \(RedactedURL.of(spec.url ?? ""))"
        switch result {
        case .failure(let error):
            throw MCPFailure(description: "\(place) cannot be reached: \(error.message)", serverGone: true)
        case .success(let response):
            if let session = response.headers["mcp-session-id"] { state.withLock { $0.session = session } }
            guard (200..<300).contains(response.status) else {
                let text = String(decoding: response.body, as: UTF8.self).excerpt(200)
                throw MCPFailure(
                    description: "\(place) answered HTTP \(response.status)" + (text.isEmpty ? "" : ": \(text)"),
                    serverGone: response.status >= 500 || response.status == 404)
            }
            return response
        }
    }

    /// The JSON-RPC messages of an answer: its JSON body, or the `data:` of each server-sent event.
    static func messages(in response: HTTPResponse) -> [JSONValue] {
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.headers["content-type"]?.hasPrefix("text/event-stream") == true else {
            return (try? JSONValue(parsing: text)).map { $0.arrayValue ?? [$0] } ?? []
        }
        var messages: [JSONValue] = []
        var data: [String] = []
        // "\r\n" is one Character to Swift: lines split on every kind of line end.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.isEmpty {
                if !data.isEmpty, let message = try? JSONValue(parsing: data.joined(separator: "\n")) {
                    messages.append(message)
                }
                data.removeAll()
            } else if line.hasPrefix("data:") {
                data.append(String(line.dropFirst(5).drop { $0 == " " }))
            }
        }
        if !data.isEmpty, let message = try? JSONValue(parsing: data.joined(separator: "\n")) {
            messages.append(message)
        }
        return messages
    }
}
