package import Foundation
import Synchronization

/// An in-memory `HTTPTransport` for tests of the call layer without a server: each request is answered at once
/// (on the caller's thread) with what `respond` returns for it, and every request is kept for inspection.
package final class ScriptedHTTPTransport: HTTPTransport {
    /// One request as the transport received it.
    package struct Request: Sendable {
        package var method: HTTPMethod
        package var url: URL
        package var headers: [String: String]
        package var body: Data
    }

    private let respond: @Sendable (Request, _ index: Int) -> Result<HTTPResponse, ProviderError>
    private let received = Mutex<[Request]>([])

    /// Answers the request numbered `index` (from 0) with `respond(request, index)`.
    package init(respond: @escaping @Sendable (Request, _ index: Int) -> Result<HTTPResponse, ProviderError>) {
        self.respond = respond
    }

    /// Answers requests in order from `script`; the last answer repeats once the script is used up.
    package convenience init(script: [Result<HTTPResponse, ProviderError>]) {
        self.init { _, index in script[min(index, script.count - 1)] }
    }

    /// The requests received so far, in order.
    package var requests: [Request] { received.withLock { $0 } }

    package func start(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        let request = Request(method: method, url: url, headers: headers, body: body)
        let index = received.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        completion(respond(request, index))
    }
}

extension HTTPResponse {
    /// A JSON response with `status` (for scripts).
    package static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Data(body.utf8))
    }
}
