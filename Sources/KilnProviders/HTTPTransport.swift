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

/// The seam between providers and the network: the engine uses libcurl; commands that must open no port use an
/// in-process fake. Implementations never retry on their own; the scheduler owns the one retry layer.
package protocol HTTPTransport: Sendable {
    /// Starts a request (`method` POST with `body`, or GET) and returns at once; `completion` runs exactly once, on
    /// the transport's own thread, with the response or a `ProviderError` (.timeout or .connection). It must be
    /// quick: hand work elsewhere.
    func start(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void)
}

/// The methods providers need: POST for calls and submissions, GET for a batch's state and results.
package enum HTTPMethod: String, Sendable {
    case get = "GET"
    case post = "POST"
}

extension HTTPTransport {
    /// Starts a POST of `body`.
    package func start(
        url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        start(method: .post, url: url, headers: headers, body: body, timeout: timeout, completion: completion)
    }

    /// Sends a request and waits for the response.
    package func send(
        _ method: HTTPMethod, url: URL, headers: [String: String], body: Data = Data(), timeout: Double
    )
        async throws(ProviderError) -> HTTPResponse
    {
        try await withCheckedContinuation { continuation in
            start(method: method, url: url, headers: headers, body: body, timeout: timeout) {
                continuation.resume(returning: $0)
            }
        }.get()
    }

    /// POSTs `body` and waits for the response.
    package func post(
        url: URL, headers: [String: String], body: Data, timeout: Double
    ) async throws(ProviderError)
        -> HTTPResponse
    {
        try await withCheckedContinuation { continuation in
            start(url: url, headers: headers, body: body, timeout: timeout) { continuation.resume(returning: $0) }
        }.get()
    }
}
