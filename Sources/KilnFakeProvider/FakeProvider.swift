package import Foundation
import KilnBasics

/// kiln-pipe's deterministic OpenAI-compatible model server on loopback: answers chat completions from the
/// request's hash (text, schema-valid JSON, tool calls, logprobs, `n` choices), with injectable faults, and
/// counts what it received so tests can prove the engine never pays twice.
package final class FakeProvider: @unchecked Sendable {
    // @unchecked Sendable: all mutable state below is guarded by `lock`.
    let lock = NSLock()
    var attemptsByBody: [String: Int] = [:]
    /// When each request body was first answered (seconds since 1970), to tell a re-payment's first delivery.
    private var succeededBodies: [String: Double] = [:]
    /// For each answer paid twice: when its first delivery was made.
    private var repaidFirstDeliveries: [Double] = []
    var statistics = FakeProviderStatistics()
    private var inFlight = 0
    private var recentArrivals: [Double] = []
    private var currentSecond = 0.0
    private var acceptedThisSecond = 0
    let config: FakeProviderConfig
    private var server: LoopbackHTTPServer?
    /// Batch API state: uploaded files and submitted batches, by id.
    var files: [String: Data] = [:]
    var batches: [String: FakeBatch] = [:]

    package init(config: FakeProviderConfig = FakeProviderConfig()) {
        self.config = config
    }

    /// Starts listening on 127.0.0.1:`port` (0: any free port).
    package func start(port: Int = 0) throws {
        let server = LoopbackHTTPServer { [unowned self] request in handle(request) }
        try server.start(port: port)
        lock.withLock { self.server = server }
    }

    package func stop() {
        lock.withLock { server }?.stop()
    }

    package var port: Int { lock.withLock { server?.port ?? 0 } }
    /// The OpenAI-style base URL, e.g. `http://127.0.0.1:41234/v1`.
    package var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    package var currentStatistics: FakeProviderStatistics { lock.withLock { statistics } }
    /// When the answers paid twice were first delivered (seconds since 1970): set against the moment a client was
    /// killed, it tells an answer the client had time to keep from one still on the wire.
    package var firstDeliveriesOfRepaid: [Double] { lock.withLock { repaidFirstDeliveries } }

    /// Answers a request without any socket: for in-process use where opening even a loopback port is not
    /// wanted (`kiln-pipe mcp`, `search`).
    package func respond(method: String, path: String, headers: [String: String] = [:], body: Data) -> HTTPReply {
        handle(HTTPRequest(method: method, path: path, headers: headers, body: body))
    }

    // MARK: Handling

    func handle(_ request: HTTPRequest) -> HTTPReply {
        if let reply = handleBatches(request) { return reply }
        switch (request.method, request.path) {
        case ("GET", "/v1/models"):
            return .json(
                200, #"{"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "kiln-pipe"}]}"#)
        case ("GET", "/stats"):
            return .json(200, currentStatistics.json.serialized())
        case ("POST", "/v1/chat/completions"):
            return answer(request, make: FakeDialect.openAI.completion)
        case ("POST", "/v1/embeddings"):
            if let body = try? JSONValue(parsing: String(decoding: request.body, as: UTF8.self)),
                let problem = FakeEmbedding.problem(in: body)
            {
                return record(.json(400, Self.error(problem, type: "invalid_request_error")), hash: nil)
            }
            return answer(request) { body, _, breakSchema in
                breakSchema
                    ? .object(JSONObject([("object", .string("list")), ("data", .array([]))]))
                    : FakeEmbedding(body: body).json
            }
        case ("POST", "/v1/messages"):
            return answer(request, dialect: .anthropic, make: FakeDialect.anthropic.completion)
        case ("POST", let path) where path.hasPrefix("/v1beta/models/") && path.hasSuffix(":generateContent"):
            return answer(request, dialect: .gemini, make: FakeDialect.gemini.completion)
        case ("POST", let path) where path.hasPrefix("/v1beta/models/") && path.hasSuffix(":batchEmbedContents"):
            return answer(request, dialect: .gemini) { body, _, breakSchema in
                breakSchema
                    ? .object(JSONObject([("embeddings", .array([]))]))
                    : FakeDialect.geminiEmbeddings(
                        FakeEmbedding(body: FakeDialect.openAIEmbeddingsBody(gemini: body)).json)
            }
        default:
            return .json(
                404, #"{"error": {"message": "no route \#(request.method) \#(request.path)", "type": "not_found"}}"#)
        }
    }

    /// Answers a POST with `make(body, hash, breakSchema)` after the configured latency, or with a fault.
    private func answer(
        _ request: HTTPRequest, dialect: FakeDialect = .openAI, make: (JSONValue, String, Bool) -> JSONValue
    ) -> HTTPReply {
        let now = request.receivedAt
        // The answer is due `latencyMS` after the request arrived, whatever the work in between took.
        let due = Date(timeIntervalSince1970: now + Double(config.latencyMS) / 1000)
        let body: JSONValue
        do {
            body = try JSONValue(parsing: String(decoding: request.body, as: UTF8.self))
        } catch {
            return record(
                .json(
                    400,
                    dialect.errorBody(
                        status: 400, message: "invalid JSON body: \(error)", openAIType: "invalid_request_error")),
                hash: nil)
        }
        // Streamed or not, the same request gets the same answer.
        var content = body.objectValue ?? JSONObject()
        content["stream"] = nil
        content["stream_options"] = nil
        // A degraded model (`m+worse-on=WORD`) answers everything else exactly as `m` does.
        if let model = content["model"]?.stringValue, let degraded = FakeCompletion.degradation(of: model) {
            content["model"] = .string(degraded.base)
        }
        let hash = SHA256.hex(JSONValue.object(content).serialized(sortedKeys: true))
        let (attempt, overLimit) = lock.withLock { () -> (Int, Bool) in
            statistics.requests += 1
            inFlight += 1
            statistics.maxInFlight = max(statistics.maxInFlight, inFlight)
            attemptsByBody[hash, default: 0] += 1
            // Like a provider's limit, only accepted requests use up the window; refused ones are free.
            var over = false
            if let (limit, seconds) = config.windowLimit {
                recentArrivals.removeAll { $0 <= now - seconds }
                over = recentArrivals.count >= limit
                if !over { recentArrivals.append(now) }
            }
            if let limit = config.perSecondLimit, !over {
                let second = now.rounded(.down)
                if second != currentSecond { (currentSecond, acceptedThisSecond) = (second, 0) }
                over = acceptedThisSecond >= limit
                if !over { acceptedThisSecond += 1 }
            }
            if over { statistics.hiddenLimitRejections += 1 }
            return (attemptsByBody[hash] ?? 1, over)
        }
        defer { lock.withLock { inFlight -= 1 } }
        if overLimit {
            return record(
                .json(
                    429,
                    dialect.errorBody(
                        status: 429, message: "Rate limit reached for requests", openAIType: "requests",
                        code: "rate_limit_exceeded")),
                hash: hash)
        }
        if let fault = config.faults.first(where: { Self.strikes($0, hash: hash, attempt: attempt) }) {
            lock.withLock { statistics.faults[fault.kind.rawValue, default: 0] += 1 }
            // A faulty answer is never a success, even when it is a 200 (schema-invalid, or sent after a timeout).
            return record(reply(for: fault.kind, dialect: dialect, answer: { make(body, hash, $0) }), hash: nil)
        }
        let answer = make(body, hash, false)
        let streams = request.path == "/v1/chat/completions" && body["stream"] == .bool(true)
        let reply = streams ? FakeStream.reply(answer, request: body) : HTTPReply.json(200, answer.serialized())
        Thread.sleep(until: due)
        // An answer to a client that has gone (killed) is never delivered: not an answered call.
        return record(reply, hash: request.clientConnected() ? hash : nil)
    }

    /// Whether a rule hits this request: a stable share of request hashes, on their first `attempts` tries.
    static func strikes(_ rule: FaultRule, hash: String, attempt: Int) -> Bool {
        guard attempt <= rule.attempts else { return false }
        let bucket = Int(SHA256.hex(rule.kind.rawValue + hash).prefix(8), radix: 16).map { $0 % 100 } ?? 0
        return bucket < rule.percent
    }

    /// `answer(breakSchema)` is the good (or schema-broken) answer some faults send late or cut off.
    func reply(for fault: FaultKind, dialect: FakeDialect, answer: (Bool) -> JSONValue) -> HTTPReply {
        // An error in the dialect's shape and status, from what OpenAI would answer.
        func error(
            _ status: Int, _ message: String, type: String, code: String? = nil, headers: [(String, String)] = []
        )
            -> HTTPReply
        {
            let status = dialect.status(for: status, code: code)
            return .json(
                status, dialect.errorBody(status: status, message: message, openAIType: type, code: code),
                headers: headers)
        }
        switch fault {
        case .rateLimit:
            return error(
                429, "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded",
                headers: [("Retry-After", "1")])
        case .rateLimitDate:
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let date = formatter.string(from: Date().addingTimeInterval(2))
            return error(
                429, "Rate limit reached", type: "requests", code: "rate_limit_exceeded",
                headers: [("Retry-After", date)])
        case .quota:
            let message =
                dialect == .anthropic
                ? "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                    + "upgrade or purchase credits."
                : "You exceeded your current quota, please check your plan and billing details."
            return error(429, message, type: "insufficient_quota", code: "insufficient_quota")
        case .unauthorized:
            return error(
                401,
                dialect == .gemini ? "API key not valid. Please pass a valid API key." : "Incorrect API key provided.",
                type: "invalid_request_error", code: "invalid_api_key")
        case .badRequest:
            return error(
                400, "Invalid value for 'messages': this request was refused by the fake provider.",
                type: "invalid_request_error")
        case .serverError:
            return error(500, "The server had an error while processing your request.", type: "server_error")
        case .unavailable:
            return error(503, "The engine is currently overloaded, please try again later.", type: "server_error")
        case .reset:
            return .reset
        case .hang:
            Thread.sleep(forTimeInterval: config.hangSeconds)
            return .json(200, answer(false).serialized())
        case .malformed:
            return .json(200, #"{"id": "chatcmpl-broken", "choices": [{"message": "#)
        case .schemaInvalid:
            return .json(200, answer(true).serialized())
        case .truncated:
            return .truncated(status: 200, body: Data(answer(false).serialized().utf8.prefix(40)))
        }
    }

    /// Counts the answer; a good 200 (`hash` given: faulty answers pass none) for a body that already had one is
    /// a duplicate payment.
    func record(_ reply: HTTPReply, hash: String?) -> HTTPReply {
        lock.withLock {
            switch reply {
            case .response(let status, _, _):
                statistics.byStatus[status, default: 0] += 1
                if status == 200, let hash {
                    statistics.succeeded += 1
                    if let first = succeededBodies[hash] {
                        statistics.duplicateSuccesses += 1
                        repaidFirstDeliveries.append(first)
                    } else {
                        succeededBodies[hash] = Date().timeIntervalSince1970
                    }
                }
            case .reset, .truncated:
                break
            }
        }
        return reply
    }

    static func error(_ message: String, type: String, code: String? = nil) -> String {
        var error = JSONObject()
        error["message"] = .string(message)
        error["type"] = .string(type)
        error["code"] = code.map(JSONValue.string) ?? .null
        return JSONValue.object(JSONObject([("error", .object(error))])).serialized()
    }
}
