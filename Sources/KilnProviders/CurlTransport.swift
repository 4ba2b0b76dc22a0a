import CCurl
package import Foundation
import KilnBasics

/// HTTP through libcurl's multi_socket interface: one event-loop thread drives every transfer of a provider over
/// a pool of keep-alive connections sized to its concurrency, waiting on epoll so that each wake-up touches only
/// the sockets that are ready (curl_multi_perform would poll every connection on every wake-up). HTTPS through
/// OpenSSL; millisecond timeouts. libcurl never retries on its own here: the scheduler owns the one retry layer.
///
/// The loop thread is also a task executor: the units that call this provider run on it (see
/// `withTaskExecutorPreference` in the engine), so an answer resumes its unit on the thread that received it,
/// without waking another thread — at a thousand calls a second those wake-ups cost more than the calls' own work.
package final class CurlTransport: HTTPTransport, TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `submitted`, `jobs`, `stopped` and `sleeping` are guarded by `lock`; `multi`, `loop` and
    // the transfers in flight are only touched by the loop thread (kp_loop_wake only writes to an eventfd).
    private let lock = NSLock()
    private var submitted: [Transfer] = []
    private var jobs: [UnownedJob] = []
    private var stopped = false
    /// Set when the loop thread has ended: jobs arriving later run on Dispatch instead.
    private var ended = false
    /// True while the loop waits on epoll with nothing queued: only then does new work need a wake-up.
    private var sleeping = false
    private let multi: UnsafeMutableRawPointer
    private let loop: UnsafeMutablePointer<kp_loop>

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    package init(maxConnections: Int) {
        _ = Self.globalInit
        // A failed init means out of memory or file descriptors; nothing sensible can continue.
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        loop = .allocate(capacity: 1)
        guard kp_loop_attach(loop, multi) == 0 else {
            fatalError("cannot create an epoll set: \(String(cString: strerror(errno)))")
        }
        _ = kp_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, maxConnections))
        _ = kp_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxConnections))
        let thread = Thread { [self] in runLoop() }
        thread.name = "kiln-pipe.curl"
        thread.start()
    }

    /// Ends the event loop once the transfers in flight and queued jobs are done; later posts fail.
    package func shutdown() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        if first { kp_loop_wake(loop) }
    }

    package func start(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        let transfer = Transfer(
            method: method, url: url, headers: headers, body: body, timeout: timeout, completion: completion)
        let (accepted, wake) = lock.withLock { () -> (Bool, Bool) in
            guard !stopped else { return (false, false) }
            submitted.append(transfer)
            defer { sleeping = false }
            return (true, sleeping)
        }
        if !accepted {
            completion(.failure(ProviderError(.connection, "the HTTP client was shut down")))
        } else if wake {
            kp_loop_wake(loop)
        }
    }

    /// Runs `job` on the loop thread, between two turns of the event loop.
    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let (wake, late) = lock.withLock { () -> (Bool, Bool) in
            guard !ended else { return (false, true) }
            jobs.append(job)
            defer { sleeping = false }
            return (sleeping, false)
        }
        if late {
            // A straggler after shutdown (a timer's late callback, say): it still runs, off the ended loop.
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        } else if wake {
            kp_loop_wake(loop)
        }
    }

    private func runLoop() {
        var running: Int32 = 0
        var active = 0
        // Easy handles are reset and reused: creating one per request costs more than the request's own work.
        var idleHandles: [UnsafeMutableRawPointer] = []
        while true {
            let (ready, incoming, stop) = lock.withLock { () -> ([UnownedJob], [Transfer], Bool) in
                defer {
                    jobs.removeAll(keepingCapacity: true)
                    submitted.removeAll(keepingCapacity: true)
                }
                // Ends here, under the lock, so that no job can be queued to a loop that will not run it.
                if stopped && active == 0 && jobs.isEmpty && submitted.isEmpty { ended = true }
                return (jobs, submitted, stopped)
            }
            for job in ready { job.runSynchronously(on: asUnownedTaskExecutor()) }
            for transfer in incoming {
                // A failed init means out of memory; nothing sensible can continue.
                guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
                    fatalError("curl_easy_init failed: out of memory")
                }
                transfer.start(in: multi, easy: easy)
            }
            active += incoming.count
            if stop && active == 0 && ready.isEmpty && incoming.isEmpty { break }
            // Waits only when nothing is queued; work queued from now on wakes the loop.
            let timeout = lock.withLock { () -> Int32 in
                guard jobs.isEmpty, submitted.isEmpty else { return 0 }
                sleeping = true
                return kp_loop_timeout(loop, 1000)
            }
            kp_loop_run_once(loop, multi, timeout, &running)
            lock.withLock { sleeping = false }
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                var context: UnsafeMutableRawPointer?
                _ = kp_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &context)
                curl_multi_remove_handle(multi, easy)
                active -= 1
                if let context {
                    Unmanaged<Transfer>.fromOpaque(context).takeRetainedValue().finish(
                        code: message.pointee.data.result)
                }
                curl_easy_reset(easy)
                idleHandles.append(easy)
            }
        }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
    }

    // The loop thread holds `self` until it ends, so nothing can wake the loop once this runs.
    deinit {
        kp_loop_close(loop)
        loop.deallocate()
    }
}

/// One request in flight: what to send, what has arrived so far, and who waits for it.
private final class Transfer {
    let method: HTTPMethod
    let url: URL
    let requestHeaders: [String: String]
    let requestBody: Data
    var headerList: UnsafeMutablePointer<curl_slist>?
    var easy: UnsafeMutableRawPointer?
    var body = Data()
    var headers: [String: String] = [:]
    let timeout: Double
    let completion: @Sendable (Result<HTTPResponse, ProviderError>) -> Void

    init(
        method: HTTPMethod, url: URL, headers: [String: String], body: Data, timeout: Double,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        self.method = method
        self.url = url
        requestHeaders = headers
        requestBody = body
        self.timeout = timeout
        self.completion = completion
    }

    /// Sets `easy` up for this request and hands it to the multi interface, which holds a reference to the
    /// transfer until `finish`. Runs on the loop thread.
    func start(in multi: UnsafeMutableRawPointer, easy: UnsafeMutableRawPointer) {
        self.easy = easy
        _ = kp_easy_setopt_string(easy, CURLOPT_URL, url.absoluteString)
        // A reset handle makes a GET; a POST sends its body.
        if method == .post {
            _ = kp_easy_setopt_long(easy, CURLOPT_POST, 1)
            _ = kp_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, requestBody.count)
            requestBody.withUnsafeBytes { raw in
                _ = kp_easy_setopt_pointer(
                    easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
        }
        for (name, value) in requestHeaders { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // No "Expect: 100-continue" round trip before the body.
        headerList = curl_slist_append(headerList, "Expect:")
        _ = kp_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
        _ = kp_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        _ = kp_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(timeout, 30) * 1000)))
        _ = kp_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = kp_easy_setopt_write(
            easy, CURLOPT_WRITEFUNCTION,
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                transfer.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            })
        _ = kp_easy_setopt_write(
            easy, CURLOPT_HEADERFUNCTION,
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                transfer.readHeader(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            })
        let context = Unmanaged.passRetained(self).toOpaque()
        _ = kp_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = kp_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        _ = kp_easy_setopt_pointer(easy, CURLOPT_PRIVATE, context)
        curl_multi_add_handle(multi, easy)
    }

    /// One header line as curl hands it over: "Name: value\r\n" (names lower-cased), or a status line.
    func readHeader(_ line: UnsafeRawBufferPointer) {
        if line.starts(with: "HTTP/".utf8) {
            headers.removeAll()  // a new response (after 100 Continue or a redirect) starts over
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1
        var end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = String(decoding: line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        headers[name] = String(decoding: line[start..<end], as: UTF8.self)
    }

    func finish(code: CURLcode) {
        var status = 0
        if let easy { _ = kp_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) }
        curl_slist_free_all(headerList)
        var host: String { url.host ?? "the provider" }
        let result: Result<HTTPResponse, ProviderError>
        switch code {
        case CURLE_OK:
            result = .success(HTTPResponse(status: status, headers: headers, body: body))
        case CURLE_OPERATION_TIMEDOUT:
            result = .failure(ProviderError(.timeout, "no answer within \(timeout.compactDescription) s from \(host)"))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            result = .failure(
                ProviderError(.connection, "cannot connect to \(host): \(String(cString: curl_easy_strerror(code)))"))
        default:
            result = .failure(
                ProviderError(
                    .connection, "the connection to \(host) failed: \(String(cString: curl_easy_strerror(code)))"))
        }
        completion(result)
    }
}
