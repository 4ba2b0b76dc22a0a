import Foundation
import KilnBasics
import KilnModel

/// OpenAI's Batch API: the requests go up as a JSONL file (`/files`, purpose `batch`), `/batches` runs it within
/// 24 hours, and the answers come back as output and error files. The submission's key travels in the batch's
/// metadata, so a run killed mid-submission finds its batch again.
extension OpenAICompatibleProvider: BatchAPI {
    private var base: String { Self.base(of: config, default: Self.defaultBaseURL) }

    /// The chat endpoint as a batch line names it: the base URL's path (`/v1`) and `/chat/completions`.
    private var chatPath: String { (URL(string: base)?.path ?? "/v1") + "/chat/completions" }

    /// The metadata field holding kiln-pipe's key of a submission.
    static let batchKeyField = "kiln_pipe_batch"

    package func submit(_ requests: [RequestBody], key: String) async throws(ProviderError) -> ProviderBatch {
        var lines = ""
        for request in requests {
            lines +=
                #"{"body":"# + request.text + #","custom_id":""# + request.hash + #"","method":"POST","url":""#
                + chatPath + "\"}\n"
        }
        let boundary = "kiln-pipe-" + key.prefix(24)
        var form = ""
        form += "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
        form +=
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; "
            + "filename=\"kiln-pipe-\(key.prefix(16)).jsonl\"\r\n"
        form += "Content-Type: application/jsonl\r\n\r\n"
        var body = Data(form.utf8)
        body.append(Data(lines.utf8))
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let file = try await call(.post, "/files", body: body, contentType: "multipart/form-data; boundary=\(boundary)")
        guard let fileID = file["id"]?.stringValue else {
            throw ProviderError(.invalidResponse, "the file upload's answer has no id")
        }
        var create = JSONObject()
        create["input_file_id"] = .string(fileID)
        create["endpoint"] = .string("/v1/chat/completions")
        create["completion_window"] = .string("24h")
        create["metadata"] = .object(JSONObject([(Self.batchKeyField, .string(key))]))
        return try Self.batch(
            from: try await call(.post, "/batches", body: Data(JSONValue.object(create).serialized().utf8)))
    }

    package func refresh(_ id: String) async throws(ProviderError) -> ProviderBatch {
        try Self.batch(from: try await call(.get, "/batches/\(id)"))
    }

    package func results(
        of batch: ProviderBatch
    ) async throws(ProviderError) -> [String: Result<HTTPResponse, ProviderError>] {
        var results: [String: Result<HTTPResponse, ProviderError>] = [:]
        for file in batch.resultSources {
            let response = try await exchange(.get, "/files/\(file)/content")
            for line in JSONValue.lines(of: response.body) {
                guard let id = line["custom_id"]?.stringValue else { continue }
                if let answer = line["response"], let status = answer["status_code"]?.numberValue,
                    let body = answer["body"]
                {
                    results[id] = .success(
                        HTTPResponse(status: Int(status), headers: [:], body: Data(body.serialized().utf8)))
                } else {
                    let code = line["error"]?["code"]?.stringValue ?? ""
                    let message = line["error"]?["message"]?.stringValue ?? "no answer in the batch"
                    // Expired and cancelled requests never ran: retried live, like a timeout.
                    results[id] = .failure(
                        ProviderError(
                            code.contains("expired") || code.contains("cancel") ? .timeout : .serverError,
                            "batch \(batch.id): \(message)"))
                }
            }
        }
        return results
    }

    package func find(key: String, requests: Int, savedAt: Double) async throws(ProviderError) -> ProviderBatch? {
        var after: String?
        // Newest first: pages back until batches older than the submission.
        for _ in 0..<20 {
            let page = try await call(.get, "/batches?limit=100" + (after.map { "&after=\($0)" } ?? ""))
            let data = page["data"]?.arrayValue ?? []
            if let match = data.first(where: { $0["metadata"]?[Self.batchKeyField]?.stringValue == key }) {
                return try Self.batch(from: match)
            }
            let oldest = data.last?["created_at"]?.numberValue ?? 0
            guard page["has_more"] == .bool(true), let last = data.last?["id"]?.stringValue, oldest >= savedAt - 60
            else {
                return nil
            }
            after = last
        }
        return nil
    }

    /// A batch object: `status` validating → in_progress → finalizing → completed, or failed / expired / cancelled.
    static func batch(from json: JSONValue) throws(ProviderError) -> ProviderBatch {
        guard let id = json["id"]?.stringValue, let status = json["status"]?.stringValue else {
            throw ProviderError(.invalidResponse, "the answer is not a batch object")
        }
        let counts = json["request_counts"] ?? .null
        let problems = (json["errors"]?["data"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
        return ProviderBatch(
            id: id, status: status, ended: ["completed", "failed", "expired", "cancelled"].contains(status),
            completed: counts.count("completed"), failed: counts.count("failed"),
            problem: problems.isEmpty ? nil : problems.prefix(3).joined(separator: "; "),
            resultSources: [json["output_file_id"]?.stringValue, json["error_file_id"]?.stringValue].compactMap { $0 })
    }

    /// A JSON answer from the API under the base URL, or the classified error.
    private func call(
        _ method: HTTPMethod, _ path: String, body: Data = Data(), contentType: String = "application/json"
    )
        async throws(ProviderError) -> JSONValue
    {
        let response = try await exchange(method, path, body: body, contentType: contentType)
        guard let json = try? JSONValue(parsing: response.body) else {
            throw ProviderError(
                .invalidResponse, "the answer to \(method.rawValue) \(path) is not JSON", status: response.status)
        }
        return json
    }

    private func exchange(
        _ method: HTTPMethod, _ path: String, body: Data = Data(), contentType: String = "application/json"
    )
        async throws(ProviderError) -> HTTPResponse
    {
        var headers = ["Accept": "application/json"]
        if method == .post { headers["Content-Type"] = contentType }
        if let apiKey, !apiKey.isEmpty { headers["Authorization"] = "Bearer \(apiKey)" }
        guard let url = URL(string: base + path) else { throw ProviderError(.rejected, "invalid URL \(base + path)") }
        let response = try await transport.send(
            method, url: url, headers: headers, body: body, timeout: config.timeoutSeconds)
        guard (200..<300).contains(response.status) else {
            throw Self.error(
                status: response.status, body: try? JSONValue(parsing: response.body),
                text: String(decoding: response.body, as: UTF8.self), headers: response.headers, provider: config)
        }
        return response
    }
}
