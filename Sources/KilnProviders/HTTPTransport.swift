package import Foundation

/// A received HTTP response.
package struct HTTPResponse: Sendable {
    package var status: Int
    /// Header names lower-cased.
    package var headers: [String: String]
    package var body: Data

    package init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The seam between providers and the network: tests put a scripted transport here; production uses URLSession.
/// Implementations never retry on their own; the scheduler owns the one retry layer.
package protocol HTTPTransport: Sendable {
    /// POSTs `body`; throws `ProviderError` (.timeout or .connection) when no response arrives.
    func post(url: URL, headers: [String: String], body: Data, timeout: Double) async throws(ProviderError) -> HTTPResponse
}
