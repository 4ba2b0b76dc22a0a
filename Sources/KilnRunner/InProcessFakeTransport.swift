import Foundation
import KilnFakeProvider
import KilnProviders

/// Talks to an in-process fake provider by function call instead of loopback HTTP: for commands that promise
/// to open no port (`mcp`, `search`). The same answers and faults as over HTTP.
struct InProcessFakeTransport: HTTPTransport {
    let fake: FakeProvider

    func start(
        url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        // The fake sleeps out its latency: on a Dispatch thread, never on Swift's cooperative pool.
        DispatchQueue.global().async { completion(respond(url: url, body: body)) }
    }

    private func respond(url: URL, body: Data) -> Result<HTTPResponse, ProviderError> {
        let path = url.path.hasPrefix("/v1") ? url.path : "/v1" + url.path
        switch fake.respond(method: "POST", path: path, body: body) {
        case .response(let status, let headers, let body):
            return .success(
                HTTPResponse(status: status, headers: Dictionary(headers.map { ($0.0.lowercased(), $0.1) }) { $1 }, body: body))
        case .truncated(let status, let body):
            return .success(HTTPResponse(status: status, headers: [:], body: body))
        case .reset:
            return .failure(ProviderError(.connection, "the fake provider reset the connection"))
        }
    }
}
