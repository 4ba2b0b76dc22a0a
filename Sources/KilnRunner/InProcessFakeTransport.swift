import Foundation
import KilnFakeProvider
import KilnProviders

/// Talks to an in-process fake provider by function call instead of loopback HTTP: for commands that promise
/// to open no port (`mcp`, `search`). The same answers and faults as over HTTP.
struct InProcessFakeTransport: HTTPTransport {
    let fake: FakeProvider

    func post(url: URL, headers: [String: String], body: Data, timeout: Double) async throws(ProviderError) -> HTTPResponse {
        let path = url.path.hasPrefix("/v1") ? url.path : "/v1" + url.path
        switch fake.respond(method: "POST", path: path, body: body) {
        case .response(let status, let headers, let body):
            return HTTPResponse(
                status: status, headers: Dictionary(headers.map { ($0.0.lowercased(), $0.1) }) { $1 }, body: body)
        case .truncated(let status, let body):
            return HTTPResponse(status: status, headers: [:], body: body)
        case .reset:
            throw ProviderError(.connection, "the fake provider reset the connection")
        }
    }
}
