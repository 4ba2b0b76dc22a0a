import Foundation
import KilnFakeProvider
import KilnProviders

/// Talks to an in-process fake provider by function call instead of loopback HTTP: for commands that promise
/// to open no port (`mcp`, `search`). The same answers and faults as over HTTP.
struct InProcessFakeTransport: HTTPTransport {
    let fake: FakeProvider

    func start(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        // The fake sleeps out its latency: on a Dispatch thread, never on Swift's cooperative pool.
        DispatchQueue.global().async { completion(respond(method: method, url: url, headers: headers, body: body)) }
    }

    private func respond(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data
    ) -> Result<HTTPResponse, ProviderError> {
        var path = url.path.hasPrefix("/v1") ? url.path : "/v1" + url.path
        if let query = url.query { path += "?" + query }
        let lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { $1 }
        switch fake.respond(method: method.rawValue, path: path, headers: lowered, body: body) {
        case .response(let status, let headers, let body):
            return .success(
                HTTPResponse(
                    status: status, headers: Dictionary(headers.map { ($0.0.lowercased(), $0.1) }) { $1 }, body: body))
        case .truncated(let status, let body):
            return .success(HTTPResponse(status: status, headers: [:], body: body))
        case .reset:
            return .failure(ProviderError(.connection, "the fake provider reset the connection"))
        }
    }
}
