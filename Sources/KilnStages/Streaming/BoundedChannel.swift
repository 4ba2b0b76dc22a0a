/// A bounded single-consumer channel between stages: `send` suspends while the buffer is full, so a fast
/// producer cannot fill memory ahead of a slow consumer.
package actor BoundedChannel<Element: Sendable> {
    private var buffer: [Element] = []
    private var head = 0
    private let capacity: Int
    private var finished = false
    private var waitingSenders: [CheckedContinuation<Void, Never>] = []
    private var waitingReceiver: CheckedContinuation<Element?, Never>?

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    package func send(_ element: Element) async {
        while buffer.count - head >= capacity && !finished {
            await withCheckedContinuation { waitingSenders.append($0) }
        }
        if let receiver = waitingReceiver {
            waitingReceiver = nil
            receiver.resume(returning: element)
        } else {
            buffer.append(element)
        }
    }

    /// No more elements will be sent; the consumer drains what is buffered, then sees the end.
    package func finish() {
        finished = true
        if let receiver = waitingReceiver, buffer.count == head {
            waitingReceiver = nil
            receiver.resume(returning: nil)
        }
        for sender in waitingSenders { sender.resume() }
        waitingSenders.removeAll()
    }

    /// Up to `limit` elements that are buffered now, without waiting for more.
    package func receiveBuffered(limit: Int) -> [Element] {
        let count = min(limit, buffer.count - head)
        guard count > 0 else { return [] }
        let elements = Array(buffer[head..<head + count])
        head += count
        if head > 1024, head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        for _ in 0..<min(count, waitingSenders.count) { waitingSenders.removeFirst().resume() }
        return elements
    }

    /// The next element, or nil once finished and drained.
    package func receive() async -> Element? {
        if let element = receiveBuffered(limit: 1).first { return element }
        if finished { return nil }
        return await withCheckedContinuation { waitingReceiver = $0 }
    }
}
