import Foundation
import Logging
import MCP

/// Stands before the MCP SDK's server and answers, as JSON-RPC 2.0 and MCP require, what the SDK answers
/// otherwise: a line that is not JSON gets a parse error with `id: null` (the SDK invents a random id), a message
/// that is not a JSON-RPC object gets -32600, a request before `initialize` (but `ping`) is refused with -32600
/// (the SDK drops it unanswered), and a `tools/call` whose parameters do not fit the request's schema (no tool
/// `name`, `arguments` not an object) gets -32602 with its id (the SDK answers -32603, an internal error).
/// Notifications before `initialize` are ignored. Everything else passes through unchanged.
actor JSONRPCGate: Transport {
    let inner: StdioTransport
    nonisolated let logger: Logger
    private var initializing = false

    init(_ inner: StdioTransport) {
        self.inner = inner
        logger = inner.logger
    }

    func connect() async throws { try await inner.connect() }
    func disconnect() async { await inner.disconnect() }
    func send(_ data: Data) async throws { try await inner.send(data) }

    func receive() -> AsyncThrowingStream<Data, any Swift.Error> {
        let (stream, continuation) = AsyncThrowingStream<Data, any Swift.Error>.makeStream()
        let task = Task {
            do {
                for try await data in await inner.receive() {
                    switch check(data) {
                    case .pass: continuation.yield(data)
                    case .answer(let refusal): try await inner.send(refusal)
                    case .drop: continue
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    enum Verdict: Equatable {
        case pass
        /// Answer with this error instead of passing the message on.
        case answer(Data)
        /// A notification that must not be answered: ignore it.
        case drop
    }

    /// What to do with one incoming message.
    func check(_ data: Data) -> Verdict {
        guard let message = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return .answer(Self.error(id: nil, code: -32700, "Parse error: the message is not valid JSON"))
        }
        if message is [Any] { return .pass }  // A batch: the SDK answers each item.
        guard let object = message as? [String: Any], object["jsonrpc"] as? String == "2.0" else {
            return .answer(
                Self.error(
                    id: (message as? [String: Any])?["id"], code: -32600,
                    "Invalid Request: a JSON-RPC 2.0 message is an object with \"jsonrpc\": \"2.0\""))
        }
        guard let method = object["method"] as? String else { return .pass }  // A response to the server.
        guard let id = object["id"] else {
            return initializing || method == InitializedNotification.name ? .pass : .drop
        }
        switch method {
        case Initialize.name:
            initializing = true
            return .pass
        case Ping.name:
            return .pass
        case _ where !initializing:
            return .answer(
                Self.error(
                    id: id, code: -32600, "Invalid Request: the server is not initialized; send initialize first"))
        case CallTool.name:
            let params = object["params"] as? [String: Any]
            guard params?["name"] is String else {
                return .answer(
                    Self.error(id: id, code: -32602, "Invalid params: tools/call needs the tool's \"name\" (a string)"))
            }
            if let arguments = params?["arguments"], !(arguments is [String: Any]) {
                return .answer(
                    Self.error(id: id, code: -32602, "Invalid params: tools/call \"arguments\" must be an object"))
            }
            return .pass
        default:
            return .pass
        }
    }

    private static func error(id: Any?, code: Int, _ message: String) -> Data {
        let answer: [String: Any] = [
            "jsonrpc": "2.0", "id": id.flatMap { $0 is String || $0 is NSNumber ? $0 : nil } ?? NSNull(),
            "error": ["code": code, "message": message],
        ]
        return (try? JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])) ?? Data()
    }
}
