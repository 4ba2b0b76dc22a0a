import Foundation
import Testing

/// `kiln-pipe mcp` as an MCP client sees it: initialize, list the tools, call `search`, get Kiln's result layout.
@Suite struct MCPServer {
    /// A JSON-RPC client over the child's stdin / stdout (one JSON message per line).
    final class Session {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var buffer = Data()

        /// The test process's sockets around the spawn: the child may inherit them.
        var inherited: Set<String> = []

        init(arguments: [String], directory: URL) throws {
            inherited = Self.sockets(of: getpid())
            defer { inherited.formUnion(Self.sockets(of: getpid())) }
            process.executableURL = KilnPipeBinary.url
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func send(_ message: [String: Any]) throws {
            var data = try JSONSerialization.data(withJSONObject: message)
            data.append(0x0A)
            input.fileHandleForWriting.write(data)
        }

        /// The next message with this id (notifications and other replies are skipped).
        func reply(to id: Int) throws -> [String: Any] {
            while true {
                let message = try nextMessage()
                if message["id"] as? Int == id { return message }
            }
        }

        /// The next message the server sends.
        func nextMessage() throws -> [String: Any] {
            while true {
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer = Data(buffer[(newline + 1)...])
                    if let message = try JSONSerialization.jsonObject(with: line) as? [String: Any] { return message }
                }
                let chunk = output.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
                buffer.append(chunk)
            }
        }

        /// TCP / UDP sockets the child holds that it did not inherit (Unix socket pairs are not ports).
        func ownNetworkSockets() -> Set<String> {
            var network = Set<String>()
            for table in ["tcp", "tcp6", "udp", "udp6"] {
                let text =
                    (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/net/\(table)", encoding: .utf8))
                    ?? ""
                // Column 10 of each entry is the socket's inode.
                for line in text.split(separator: "\n").dropFirst() {
                    let columns = line.split(separator: " ")
                    if columns.count > 9 { network.insert("socket:[\(columns[9])]") }
                }
            }
            return Self.sockets(of: process.processIdentifier).subtracting(inherited).intersection(network)
        }

        /// The sockets a process holds, from /proc.
        static func sockets(of pid: Int32) -> Set<String> {
            let folder = "/proc/\(pid)/fd"
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return Set(
                descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)") }
                    .filter { $0.hasPrefix("socket:") })
        }

        func close() -> Int32 {
            input.fileHandleForWriting.closeFile()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// The test corpus indexed in a temporary folder, and `kiln-pipe mcp` serving it.
    static func servedCorpus() throws -> (session: Session, directory: URL) {
        let directory = try DocumentSearch.makeCorpus()
        _ = try KilnPipeBinary.run(["index", "p.yml", "--quiet"], in: directory)
        return (try Session(arguments: ["mcp", "p.yml"], directory: directory), directory)
    }

    /// What JSON-RPC 2.0 and MCP require of the protocol edges: a line that is not JSON gets a parse error with
    /// id null; a request before `initialize` is refused (not dropped); a `tools/call` without a tool name or with
    /// an unknown tool is -32602; a bad argument value is the tool's own error, so the model can correct it.
    @Test func protocolErrorsAreAnsweredAsTheSpecificationsSay() throws {
        let (session, directory) = try Self.servedCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        try session.send([
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": ["name": "search", "arguments": ["query": "glaze"]],
        ])
        let early = try session.reply(to: 1)
        #expect((early["error"] as? [String: Any])?["code"] as? Int == -32600, "\(early)")
        session.input.fileHandleForWriting.write(Data("this is not json\n".utf8))
        let parse = try session.nextMessage()
        #expect(parse["id"] is NSNull, "\(parse)")
        #expect((parse["error"] as? [String: Any])?["code"] as? Int == -32700, "\(parse)")
        try session.send([
            "jsonrpc": "2.0", "id": 2, "method": "initialize",
            "params": [
                "protocolVersion": "2025-03-26", "capabilities": [:] as [String: Any],
                "clientInfo": ["name": "test", "version": "1"],
            ],
        ])
        _ = try session.reply(to: 2)
        try session.send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        let badParams: [(Int, [String: Any])] = [
            (3, ["nme": "search"]), (4, ["name": "search", "arguments": "glaze"]),
            (5, ["name": "serch", "arguments": ["query": "glaze"]]),
        ]
        for (id, params) in badParams {
            try session.send(["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params])
            let answer = try session.reply(to: id)
            #expect((answer["error"] as? [String: Any])?["code"] as? Int == -32602, "\(answer)")
        }
        try session.send([
            "jsonrpc": "2.0", "id": 6, "method": "tools/call",
            "params": ["name": "search", "arguments": ["query": 5]],
        ])
        #expect(((try session.reply(to: 6))["result"] as? [String: Any])?["isError"] as? Bool == true)
        #expect(session.close() == 0)
    }

    /// The official Python MCP SDK's stdio client (a peer nobody here wrote) initializes, lists, searches, and
    /// sees refusals the way the protocol says.
    @Test func theOfficialPythonClientSearches() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let directory = try DocumentSearch.makeCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try KilnPipeBinary.run(["index", "p.yml", "--quiet"], in: directory)
        let check = try KilnPipeBinary.run(
            [
                KilnPipeBinary.repositoryRoot.appendingPathComponent(
                    "Tests/KilnCommandsTests/Support/mcp_client_check.py"
                ).path, KilnPipeBinary.url.path, "p.yml", "kiln wash on shelves",
            ],
            in: directory, executable: URL(fileURLWithPath: python))
        #expect(check.status == 0, "\(check.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        #expect(seen["server"] as? String == "kiln-pipe")
        #expect(seen["tools"] as? [String] == ["search"])
        let search = try #require(seen["search"] as? [String: Any])
        #expect(search["is_error"] as? Bool == false)
        #expect(
            (search["text"] as? String)?.hasPrefix("[document_id: corpus/notes/kiln-care.md, chunk_idx: ") == true,
            "\(search)")
        #expect((seen["k_0"] as? [String: Any])?["is_error"] as? Bool == true)
        #expect(seen["unknown_tool"] as? Int == -32602)
    }

    @Test func listsTheSearchToolAndAnswersLikeKilnsSearchTool() throws {
        let (session, directory) = try Self.servedCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        try session.send([
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": [
                "protocolVersion": "2025-03-26", "capabilities": [:] as [String: Any],
                "clientInfo": ["name": "test", "version": "1"],
            ],
        ])
        let initialized = try session.reply(to: 1)
        #expect((initialized["result"] as? [String: Any])?["serverInfo"] != nil, "\(initialized)")
        try session.send(["jsonrpc": "2.0", "method": "notifications/initialized"])

        try session.send(["jsonrpc": "2.0", "id": 2, "method": "tools/list"])
        let tools = try #require(((try session.reply(to: 2))["result"] as? [String: Any])?["tools"] as? [[String: Any]])
        #expect(tools.map { $0["name"] as? String } == ["search"])
        let schema = try #require(tools.first?["inputSchema"] as? [String: Any])
        #expect(schema["required"] as? [String] == ["query"])

        for (query, document) in DocumentSearch.queries.prefix(4) {
            try session.send([
                "jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": ["name": "search", "arguments": ["query": query, "k": 3]],
            ])
            let result = try #require((try session.reply(to: 3))["result"] as? [String: Any])
            #expect(result["isError"] as? Bool != true)
            let text = try #require((result["content"] as? [[String: Any]])?.first?["text"] as? String)
            let hits = text.components(separatedBy: "\n=========\n")
            #expect(hits.count == 3)
            #expect(hits.first?.hasPrefix("[document_id: \(document), chunk_idx: ") == true, "\(query): \(text)")
        }

        // It reads only: serving and searching (hybrid, through the fake embedder) opens no network socket.
        #expect(session.ownNetworkSockets().isEmpty, "\(session.ownNetworkSockets())")

        try session.send([
            "jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": ["name": "search", "arguments": [:] as [String: Any]],
        ])
        let missing = try #require((try session.reply(to: 4))["result"] as? [String: Any])
        #expect(missing["isError"] as? Bool == true)

        // Out of range is refused, not clamped; an oversized query is refused at once.
        let refusals: [(Int, [String: Any], String)] = [
            (5, ["query": "glaze", "k": 0], "k must be a whole number from 1 to 50"),
            (6, ["query": "glaze", "k": 500], "k must be a whole number from 1 to 50"),
            (7, ["query": String(repeating: "glaze ", count: 1000)], "search takes at most 4096"),
        ]
        for (id, arguments, message) in refusals {
            try session.send([
                "jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": ["name": "search", "arguments": arguments],
            ])
            let refused = try #require((try session.reply(to: id))["result"] as? [String: Any])
            #expect(refused["isError"] as? Bool == true)
            let text = (refused["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            #expect(text.contains(message), "\(text)")
        }
        #expect(session.close() == 0)
    }
}
