import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server bound to 127.0.0.1 only: one thread per connection, keep-alive, Content-Length bodies.
/// It exists so tests and the demo can talk real HTTP to a fake model without a network framework.
package final class LoopbackHTTPServer: @unchecked Sendable {
    // @unchecked Sendable: `listener`, `connections` and `running` are guarded by `lock`; the handler is Sendable.
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var connections: Set<Int32> = []
    private var running = false
    private let handler: @Sendable (HTTPRequest) -> HTTPReply
    /// The port the server listens on, once started.
    package private(set) var port: Int = 0

    package init(handler: @escaping @Sendable (HTTPRequest) -> HTTPReply) {
        self.handler = handler
    }

    /// Binds 127.0.0.1:`port` (0 picks a free port) and starts accepting connections.
    package func start(port requested: Int = 0) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requested).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 512) == 0 else {
            let error = errno
            close(descriptor)
            throw POSIXError(.init(rawValue: error) ?? .EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        lock.withLock {
            listener = descriptor
            running = true
        }
        let thread = Thread { [self] in acceptLoop(descriptor) }
        thread.name = "fake-provider-accept"
        thread.start()
    }

    /// Stops accepting and closes every open connection.
    package func stop() {
        let (descriptor, open) = lock.withLock {
            running = false
            defer { listener = -1 }
            return (listener, connections)
        }
        if descriptor >= 0 {
            shutdown(descriptor, Int32(SHUT_RDWR))
            close(descriptor)
        }
        for connection in open { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    package var isRunning: Bool { lock.withLock { running } }

    private func acceptLoop(_ descriptor: Int32) {
        while isRunning {
            let connection = accept(descriptor, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return
            }
            var yes: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            lock.withLock { _ = connections.insert(connection) }
            let thread = Thread { [self] in
                serve(connection)
                lock.withLock { _ = connections.remove(connection) }
                close(connection)
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while isRunning {
            // Read until a full request (headers + Content-Length body) is buffered.
            var request: HTTPRequest?
            var receivedAt = Date().timeIntervalSince1970
            while request == nil {
                if let (parsed, consumed) = Self.parse(buffer) {
                    request = parsed
                    buffer.removeSubrange(0..<consumed)
                    break
                }
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { return }
                if buffer.isEmpty { receivedAt = Date().timeIntervalSince1970 }
                buffer.append(chunk, count: count)
            }
            guard var request else { return }
            request.receivedAt = receivedAt
            request.clientConnected = { Self.isOpen(connection) }
            let reply = handler(request)
            switch reply {
            case .response(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) \(HTTPReply.reason(for: status))\r\nContent-Length: \(body.count)\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                head += "\r\n"
                guard write(connection, Data(head.utf8) + body) else { return }
                if request.headers["connection"]?.lowercased() == "close" { return }
            case .reset:
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                return
            case .truncated(let status, let body):
                let head =
                    "HTTP/1.1 \(status) OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + "\(body.count * 2)\r\n\r\n"
                _ = write(connection, Data(head.utf8) + body)
                return
            }
        }
    }

    /// Whether the peer has not closed `connection` (a closed one is readable with nothing to read).
    static func isOpen(_ connection: Int32) -> Bool {
        let peerClosed: Int16 = 0x2000  // POLLRDHUP (Linux), which Glibc's module does not export
        var descriptor = pollfd(fd: connection, events: Int16(POLLIN) | peerClosed, revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return true }
        if descriptor.revents & (peerClosed | Int16(POLLHUP) | Int16(POLLERR)) != 0 { return false }
        var byte: UInt8 = 0
        return recv(connection, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) != 0
    }

    private func write(_ connection: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let sent = send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// A complete request at the start of `buffer`, and how many bytes it used.
    static func parse(_ buffer: Data) -> (HTTPRequest, Int)? {
        guard let headerEnd = buffer.firstRange(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: buffer[buffer.startIndex..<headerEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd.upperBound
        guard buffer.endIndex - bodyStart >= length else { return nil }
        let body = buffer[bodyStart..<bodyStart + length]
        let request = HTTPRequest(
            method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: Data(body))
        return (request, bodyStart + length - buffer.startIndex)
    }
}
