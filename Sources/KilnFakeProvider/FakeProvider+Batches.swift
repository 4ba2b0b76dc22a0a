import Foundation
import KilnBasics

/// A batch as the fake keeps it: every line answered when it was submitted (with the same faults as a live call),
/// revealed once `batchSeconds` have passed.
struct FakeBatch: Sendable {
    struct Line: Sendable {
        var customID: String
        /// Nil for a request the batch never ran (expired).
        var status: Int?
        var body: JSONValue
    }

    var id: String
    var dialect: FakeDialect
    var createdAt: Double
    var metadata: JSONValue
    var inputFileID: String?
    var lines: [Line]
    var outputFileID: String?
    var errorFileID: String?
}

/// The batch APIs of OpenAI (`/v1/files` + `/v1/batches`) and Anthropic (`/v1/messages/batches`), answered by the
/// same fake model and the same fault rules as live calls; `batchExpiredPercent` leaves a share of the requests
/// unanswered, as a batch that ran out of time does.
extension FakeProvider {
    func handleBatches(_ request: HTTPRequest) -> HTTPReply? {
        let parts = request.path.split(separator: "?", maxSplits: 1).map(String.init)
        let path = parts[0]
        let query = Self.query(parts.count > 1 ? parts[1] : "")
        let segments = path.split(separator: "/").map(String.init)
        let isBatchRoute =
            path == "/v1/files" || path.hasPrefix("/v1/files/") || path == "/v1/batches"
            || path.hasPrefix("/v1/batches/")
            || path.hasPrefix("/v1/messages/batches")
        guard isBatchRoute else { return nil }
        let dialect: FakeDialect = path.hasPrefix("/v1/messages/") ? .anthropic : .openAI
        if config.faults.contains(where: { $0.kind == .unauthorized && $0.percent == 100 }) {
            return .json(
                401,
                dialect.errorBody(
                    status: 401, message: "Incorrect API key provided.", openAIType: "invalid_request_error",
                    code: "invalid_api_key"))
        }
        // The route without the batch or file id, which `id` holds.
        let id = segments.count > 2 && segments[2] != "batches" ? segments[2] : segments.count > 3 ? segments[3] : ""
        let route = segments.map { $0 == id ? "{id}" : $0 }.joined(separator: "/")
        switch (request.method, route) {
        case ("POST", "v1/files"):
            return upload(request)
        case ("GET", "v1/files/{id}/content"):
            guard let data = lock.withLock({ files[id] }) else { return notFound(dialect, "no file \(id)") }
            return .response(status: 200, headers: [("Content-Type", "application/jsonl")], body: data)
        case ("POST", "v1/batches"):
            return createOpenAIBatch(request)
        case ("POST", "v1/messages/batches"):
            return createAnthropicBatch(request)
        case ("GET", "v1/batches"), ("GET", "v1/messages/batches"):
            let limit = query["limit"].flatMap { Int($0) } ?? 20
            let all = lock.withLock {
                batches.values.filter { $0.dialect == dialect }.sorted { $0.createdAt > $1.createdAt }
            }
            let start = query["after"].flatMap { after in all.firstIndex { $0.id == after }.map { $0 + 1 } } ?? 0
            let page = Array(all.dropFirst(start).prefix(limit))
            var list = JSONObject()
            list["data"] = .array(page.map { object(of: $0, host: request.headers["host"]) })
            list["has_more"] = .bool(start + page.count < all.count)
            list["first_id"] = page.first.map { .string($0.id) } ?? .null
            list["last_id"] = page.last.map { .string($0.id) } ?? .null
            return .json(200, JSONValue.object(list).serialized())
        case ("GET", "v1/batches/{id}"), ("GET", "v1/messages/batches/{id}"):
            guard let batch = settled(id) else { return notFound(dialect, "no batch \(id)") }
            return .json(200, object(of: batch, host: request.headers["host"]).serialized())
        case ("GET", "v1/messages/batches/{id}/results"):
            guard let batch = settled(id), batch.outputFileID != nil else {
                return notFound(dialect, "batch \(id) has no results yet")
            }
            let text = batch.lines.map { line -> String in
                let result: JSONValue =
                    switch line.status {
                    case nil: .object(JSONObject([("type", .string("expired"))]))
                    case 200: .object(JSONObject([("type", .string("succeeded")), ("message", line.body)]))
                    default: .object(JSONObject([("type", .string("errored")), ("error", line.body)]))
                    }
                return JSONValue.object(JSONObject([("custom_id", .string(line.customID)), ("result", result)]))
                    .serialized()
            }.joined(separator: "\n")
            return .response(
                status: 200, headers: [("Content-Type", "application/jsonl")], body: Data((text + "\n").utf8))
        default:
            return notFound(dialect, "no route \(request.method) \(path)")
        }
    }

    private func notFound(_ dialect: FakeDialect, _ message: String) -> HTTPReply {
        .json(404, dialect.errorBody(status: 404, message: message, openAIType: "invalid_request_error"))
    }

    private func invalid(_ dialect: FakeDialect, _ message: String) -> HTTPReply {
        .json(400, dialect.errorBody(status: 400, message: message, openAIType: "invalid_request_error"))
    }

    /// `POST /v1/files`: a multipart form with `purpose` and `file`.
    private func upload(_ request: HTTPRequest) -> HTTPReply {
        guard let type = request.headers["content-type"], let range = type.range(of: "boundary=") else {
            return invalid(.openAI, "expected a multipart/form-data upload")
        }
        let boundary = String(type[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let text = String(decoding: request.body, as: UTF8.self)
        var fileContent: String?
        var purpose: String?
        for part in text.components(separatedBy: "--" + boundary) {
            guard let split = part.range(of: "\r\n\r\n") else { continue }
            let head = part[..<split.lowerBound]
            var content = String(part[split.upperBound...])
            if content.hasSuffix("\r\n") { content.removeLast() }
            if head.contains("name=\"file\"") { fileContent = content }
            if head.contains("name=\"purpose\"") { purpose = content }
        }
        guard purpose == "batch", let fileContent else {
            return invalid(.openAI, "expected the fields purpose=batch and file")
        }
        let id = lock.withLock { () -> String in
            let id = "file-\(files.count + 1)"
            files[id] = Data(fileContent.utf8)
            return id
        }
        return .json(
            200,
            JSONValue.object(
                JSONObject([
                    ("id", .string(id)), ("object", .string("file")), ("purpose", .string("batch")),
                    ("bytes", .integer(fileContent.utf8.count)),
                ])
            ).serialized())
    }

    private func createOpenAIBatch(_ request: HTTPRequest) -> HTTPReply {
        guard let body = try? JSONValue(parsing: request.body), let fileID = body["input_file_id"]?.stringValue else {
            return invalid(.openAI, "expected input_file_id")
        }
        guard body["endpoint"]?.stringValue == "/v1/chat/completions" else {
            return invalid(.openAI, "unsupported endpoint")
        }
        guard let data = lock.withLock({ files[fileID] }) else { return notFound(.openAI, "no file \(fileID)") }
        var requests: [(String, JSONValue)] = []
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let json = try? JSONValue(parsing: String(line)), let id = json["custom_id"]?.stringValue,
                let params = json["body"], json["url"]?.stringValue == "/v1/chat/completions"
            else { return invalid(.openAI, "line \(requests.count + 1) of \(fileID) is not a batch request") }
            requests.append((id, params))
        }
        return create(
            requests, dialect: .openAI, metadata: body["metadata"] ?? .null, fileID: fileID,
            host: request.headers["host"])
    }

    private func createAnthropicBatch(_ request: HTTPRequest) -> HTTPReply {
        guard let list = (try? JSONValue(parsing: request.body))?["requests"]?.arrayValue else {
            return invalid(.anthropic, "requests: Field required")
        }
        var requests: [(String, JSONValue)] = []
        for entry in list {
            guard let id = entry["custom_id"]?.stringValue, let params = entry["params"] else {
                return invalid(.anthropic, "requests.\(requests.count): custom_id and params are required")
            }
            let allowed =
                id.count <= 64 && !id.isEmpty
                && id.unicodeScalars.allSatisfy {
                    $0.properties.isASCIIHexDigit || $0 == "_" || $0 == "-" || ("a"..."z").contains($0)
                        || ("A"..."Z").contains($0)
                }
            guard allowed else {
                return invalid(.anthropic, "requests.\(requests.count).custom_id: must match ^[a-zA-Z0-9_-]{1,64}$")
            }
            requests.append((id, params))
        }
        return create(requests, dialect: .anthropic, metadata: .null, fileID: nil, host: request.headers["host"])
    }

    /// Answers every request of a new batch now (faults included), to be revealed when the batch ends.
    private func create(
        _ requests: [(customID: String, body: JSONValue)], dialect: FakeDialect, metadata: JSONValue, fileID: String?,
        host: String?
    ) -> HTTPReply {
        guard !requests.isEmpty else { return invalid(dialect, "a batch needs at least one request") }
        guard Set(requests.map(\.customID)).count == requests.count else {
            return invalid(dialect, "custom_id values must be unique within a batch")
        }
        let lines = requests.map { request in
            FakeBatch.Line(customID: request.customID, status: nil, body: .null).answered(
                by: self, body: request.body, dialect: dialect)
        }
        let batch = lock.withLock { () -> FakeBatch in
            statistics.batchSubmissions += 1
            statistics.batchRequests += requests.count
            let prefix = dialect == .anthropic ? "msgbatch_" : "batch_"
            let batch = FakeBatch(
                id: prefix + String(format: "%04d", batches.count + 1), dialect: dialect,
                createdAt: Date().timeIntervalSince1970, metadata: metadata, inputFileID: fileID, lines: lines)
            batches[batch.id] = batch
            return batch
        }
        return .json(200, object(of: batch, host: host).serialized())
    }

    /// One line's answer: what a live call would have got on this attempt, or nothing when the batch expires
    /// before reaching it. Faults that only a connection can show (reset, hang, cut-off bodies) become 500s.
    func answerLine(_ body: JSONValue, dialect: FakeDialect) -> (status: Int?, body: JSONValue) {
        let hash = SHA256.hex(body.serialized(sortedKeys: true))
        let expiredBucket = Int(SHA256.hex("batch_expired" + hash).prefix(8), radix: 16).map { $0 % 100 } ?? 0
        if expiredBucket < config.batchExpiredPercent { return (nil, .null) }
        let attempt = lock.withLock { () -> Int in
            attemptsByBody[hash, default: 0] += 1
            return attemptsByBody[hash] ?? 1
        }
        let make = { (broken: Bool) in dialect.completion(body: body, hash: hash, breakSchema: broken) }
        var reply = HTTPReply.json(200, make(false).serialized())
        var good = true
        if var fault = config.faults.first(where: { Self.strikes($0, hash: hash, attempt: attempt) })?.kind {
            lock.withLock { statistics.faults[fault.rawValue, default: 0] += 1 }
            if [.reset, .hang, .malformed, .truncated].contains(fault) { fault = .serverError }
            reply = self.reply(for: fault, dialect: dialect, answer: make)
            good = false
        }
        _ = record(reply, hash: good ? hash : nil)
        guard case .response(let status, _, let data) = reply else { return (500, .null) }
        return (status, (try? JSONValue(parsing: data)) ?? .null)
    }

    /// The batch as it stands now; once its time is up, its result files exist.
    private func settled(_ id: String) -> FakeBatch? {
        lock.withLock {
            guard var batch = batches[id] else { return nil }
            guard batch.outputFileID == nil, Date().timeIntervalSince1970 - batch.createdAt >= config.batchSeconds
            else {
                return batch
            }
            func file(_ lines: [FakeBatch.Line]) -> String {
                let id = "file-\(files.count + 1)"
                let text = lines.map { line -> String in
                    var object = JSONObject([
                        ("id", .string("batch_req_\(line.customID.prefix(12))")), ("custom_id", .string(line.customID)),
                    ])
                    if let status = line.status {
                        object["response"] = .object(
                            JSONObject([
                                ("status_code", .integer(status)), ("request_id", .string("req_fake")),
                                ("body", line.body),
                            ]))
                        object["error"] = .null
                    } else {
                        object["response"] = .null
                        object["error"] = .object(
                            JSONObject([
                                ("code", .string("batch_expired")),
                                (
                                    "message",
                                    .string("This request could not be executed before the completion window expired.")
                                ),
                            ]))
                    }
                    return JSONValue.object(object).serialized()
                }.joined(separator: "\n")
                files[id] = Data((text.isEmpty ? "" : text + "\n").utf8)
                return id
            }
            batch.outputFileID = file(batch.lines.filter { $0.status == 200 })
            batch.errorFileID = file(batch.lines.filter { $0.status != 200 })
            batches[id] = batch
            return batch
        }
    }

    /// The batch object in its API's shape.
    private func object(of batch: FakeBatch, host: String?) -> JSONValue {
        let ended = batch.outputFileID != nil
        let expired = batch.lines.filter { $0.status == nil }.count
        let succeeded = batch.lines.filter { $0.status == 200 }.count
        var object = JSONObject([("id", .string(batch.id))])
        switch batch.dialect {
        case .anthropic:
            let formatter = ISO8601DateFormatter()
            object["type"] = .string("message_batch")
            object["processing_status"] = .string(ended ? "ended" : "in_progress")
            object["request_counts"] = .object(
                JSONObject([
                    ("processing", .integer(ended ? 0 : batch.lines.count)),
                    ("succeeded", .integer(ended ? succeeded : 0)),
                    ("errored", .integer(ended ? batch.lines.count - succeeded - expired : 0)),
                    ("canceled", .integer(0)),
                    ("expired", .integer(ended ? expired : 0)),
                ]))
            object["created_at"] = .string(formatter.string(from: Date(timeIntervalSince1970: batch.createdAt)))
            object["results_url"] =
                ended ? .string("http://\(host ?? "127.0.0.1:\(port)")/v1/messages/batches/\(batch.id)/results") : .null
        case .openAI, .gemini:
            object["object"] = .string("batch")
            object["endpoint"] = .string("/v1/chat/completions")
            object["input_file_id"] = batch.inputFileID.map(JSONValue.string) ?? .null
            object["completion_window"] = .string("24h")
            object["status"] = .string(ended ? (expired > 0 ? "expired" : "completed") : "in_progress")
            object["output_file_id"] = batch.outputFileID.map(JSONValue.string) ?? .null
            object["error_file_id"] = batch.errorFileID.map(JSONValue.string) ?? .null
            object["created_at"] = .integer(Int(batch.createdAt))
            object["request_counts"] = .object(
                JSONObject([
                    ("total", .integer(batch.lines.count)), ("completed", .integer(ended ? succeeded : 0)),
                    ("failed", .integer(ended ? batch.lines.count - succeeded : 0)),
                ]))
            object["metadata"] = batch.metadata
        }
        return .object(object)
    }

    private static func query(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1].removingPercentEncoding ?? parts[1] }
        }
        return values
    }
}

extension FakeBatch.Line {
    func answered(by fake: FakeProvider, body: JSONValue, dialect: FakeDialect) -> FakeBatch.Line {
        let (status, answer) = fake.answerLine(body, dialect: dialect)
        return FakeBatch.Line(customID: customID, status: status, body: answer)
    }
}
