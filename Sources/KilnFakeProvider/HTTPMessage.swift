package import Foundation

/// An HTTP/1.1 request as the loopback server received it.
package struct HTTPRequest: Sendable {
    package var method: String
    package var path: String
    /// Header names lower-cased.
    package var headers: [String: String]
    package var body: Data
    /// When its first bytes arrived (seconds since 1970): a provider's latency counts from there.
    package var receivedAt: Double = Date().timeIntervalSince1970
    /// Whether the client still holds the connection open (a killed client's answer is never delivered, so a
    /// provider never counts it as answered).
    package var clientConnected: @Sendable () -> Bool = { true }
}

/// What the loopback server does with a request: answer it, or misbehave on purpose.
package enum HTTPReply: Sendable {
    /// A normal response.
    case response(status: Int, headers: [(String, String)], body: Data)
    /// Close the connection without answering (the client sees a reset).
    case reset
    /// Send the headers and part of the body, then close.
    case truncated(status: Int, body: Data)

    package static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPReply {
        .response(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(text.utf8))
    }
}

extension HTTPReply {
    static func reason(for status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
