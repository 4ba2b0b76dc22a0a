package import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP through Foundation's URLSession (libcurl on Linux), one session per provider, sized for its concurrency.
package final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// `maxConnections` should be at least the provider's `max_concurrency`: URLSession defaults to 6 per host.
    package init(maxConnections: Int, timeout: Double) {
        let configuration = URLSessionConfiguration.ephemeral
        // Linux's URLSession ignores URLRequest.timeoutInterval and libcurl truncates fractions of a second (0.5 s
        // times out at once), so the session's timeouts are set in whole seconds, rounded up.
        configuration.timeoutIntervalForRequest = max(1, timeout.rounded(.up))
        configuration.timeoutIntervalForResource = max(1, timeout.rounded(.up))
        configuration.httpMaximumConnectionsPerHost = max(maxConnections, 1)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    package func post(url: URL, headers: [String: String], body: Data, timeout: Double) async throws(ProviderError)
        -> HTTPResponse
    {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw ProviderError(.invalidResponse, "not an HTTP response")
            }
            var lowered: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { lowered[name.lowercased()] = value }
            }
            return HTTPResponse(status: http.statusCode, headers: lowered, body: data)
        } catch let error as ProviderError {
            throw error
        } catch let error as URLError {
            switch error.code {
            case .timedOut: throw ProviderError(.timeout, "no answer within \(Self.format(timeout)) s from \(url.host ?? "the provider")")
            case .cancelled: throw ProviderError(.connection, "request cancelled")
            default: throw ProviderError(.connection, "cannot reach \(url.host ?? "the provider"): \(error.localizedDescription)")
            }
        } catch {
            throw ProviderError(.connection, "request to \(url.host ?? "the provider") failed: \(error)")
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
