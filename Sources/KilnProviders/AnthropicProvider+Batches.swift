import Foundation
import KilnBasics
import KilnModel

/// Anthropic's Message Batches: up to 100 000 Messages requests in one POST, processed within 24 hours at half
/// price, the answers streamed back as JSONL from the batch's `results_url`. The API keeps no tag on a batch, so a
/// submission lost in a crash is recognised by its time and size.
extension AnthropicProvider: BatchAPI {
    private var base: String { Self.base(of: config, default: Self.defaultBaseURL) }

    package func submit(_ requests: [RequestBody], key: String) async throws(ProviderError) -> ProviderBatch {
        var body = #"{"requests":["#
        for (index, request) in requests.enumerated() {
            if index > 0 { body += "," }
            body += #"{"custom_id":""# + request.hash + #"","params":"# + request.text + "}"
        }
        body += "]}"
        return try Self.batch(from: try await call(.post, base + "/messages/batches", body: Data(body.utf8)))
    }

    package func refresh(_ id: String) async throws(ProviderError) -> ProviderBatch {
        try Self.batch(from: try await call(.get, base + "/messages/batches/\(id)"))
    }

    package func results(
        of batch: ProviderBatch
    ) async throws(ProviderError) -> [String: Result<HTTPResponse, ProviderError>] {
        var results: [String: Result<HTTPResponse, ProviderError>] = [:]
        for source in batch.resultSources {
            for line in JSONValue.lines(of: try await exchange(.get, source).body) {
                guard let id = line["custom_id"]?.stringValue, let result = line["result"] else { continue }
                switch result["type"]?.stringValue {
                case "succeeded":
                    results[id] = .success(
                        HTTPResponse(
                            status: 200, headers: [:], body: Data((result["message"] ?? .null).serialized().utf8)))
                case "errored":
                    // The error as the Messages API would have answered it, so that it is classified the same way.
                    let error = result["error"] ?? .null
                    let status = Self.status(
                        ofErrorType: error["error"]?["type"]?.stringValue ?? error["type"]?.stringValue)
                    results[id] = .success(
                        HTTPResponse(status: status, headers: [:], body: Data(error.serialized().utf8)))
                default:
                    let type = result["type"]?.stringValue ?? "unknown"
                    results[id] = .failure(
                        ProviderError(.timeout, "batch \(batch.id): the request was \(type) before it ran"))
                }
            }
        }
        return results
    }

    package func find(key: String, requests: Int, savedAt: Double) async throws(ProviderError) -> ProviderBatch? {
        let page = try await call(.get, base + "/messages/batches?limit=100")
        // The batch created within a minute of the save that carries as many requests; the closest one in time.
        let candidates = (page["data"]?.arrayValue ?? []).compactMap { json -> (ProviderBatch, Double)? in
            guard let created = json["created_at"]?.stringValue.flatMap(Self.date), abs(created - savedAt) < 60,
                let batch = try? Self.batch(from: json), Self.total(json["request_counts"] ?? .null) == requests
            else { return nil }
            return (batch, abs(created - savedAt))
        }
        return candidates.min { $0.1 < $1.1 }?.0
    }

    /// A message batch: `processing_status` in_progress → ended (or canceling), with counts per outcome.
    static func batch(from json: JSONValue) throws(ProviderError) -> ProviderBatch {
        guard let id = json["id"]?.stringValue, let status = json["processing_status"]?.stringValue else {
            throw ProviderError(.invalidResponse, "the answer is not a message batch")
        }
        let counts = json["request_counts"] ?? .null
        return ProviderBatch(
            id: id, status: status, ended: status == "ended", completed: counts.count("succeeded"),
            failed: counts.count("errored") + counts.count("canceled") + counts.count("expired"),
            resultSources: [json["results_url"]?.stringValue].compactMap { $0 })
    }

    private static func total(_ counts: JSONValue) -> Int {
        ["processing", "succeeded", "errored", "canceled", "expired"].reduce(0) { $0 + counts.count($1) }
    }

    /// The HTTP status a live call would have had for an error type.
    static func status(ofErrorType type: String?) -> Int {
        switch type {
        case "invalid_request_error": 400
        case "authentication_error": 401
        case "permission_error": 403
        case "not_found_error": 404
        case "request_too_large": 413
        case "rate_limit_error": 429
        case "overloaded_error": 529
        default: 500
        }
    }

    /// Seconds since 1970 of an RFC 3339 time.
    static func date(_ text: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)?.timeIntervalSince1970
    }

    private func call(_ method: HTTPMethod, _ url: String, body: Data = Data()) async throws(ProviderError) -> JSONValue
    {
        let response = try await exchange(method, url, body: body)
        guard let json = try? JSONValue(parsing: response.body) else {
            throw ProviderError(
                .invalidResponse, "the answer to \(method.rawValue) \(url) is not JSON", status: response.status)
        }
        return json
    }

    private func exchange(
        _ method: HTTPMethod, _ url: String, body: Data = Data()
    ) async throws(ProviderError) -> HTTPResponse {
        var headers = ["anthropic-version": Self.apiVersion]
        if method == .post { headers["Content-Type"] = "application/json" }
        if let apiKey, !apiKey.isEmpty { headers["x-api-key"] = apiKey }
        guard let target = URL(string: url) else { throw ProviderError(.rejected, "invalid URL \(url)") }
        let response = try await transport.send(
            method, url: target, headers: headers, body: body, timeout: config.timeoutSeconds)
        guard (200..<300).contains(response.status) else {
            throw error(response, body: try? JSONValue(parsing: response.body))
        }
        return response
    }
}
