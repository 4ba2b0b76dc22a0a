import Foundation
import KilnBasics
import KilnExport
import KilnIndex
import KilnModel
import KilnProviders

/// The tools of an `outputs` stage: their definitions (what the model is offered, and what exports write) and how
/// each runs. Kiln 1.2.0's built-in math tools run here, with Kiln's results (`str(a + b)` in Python: `5`, `2.5`,
/// `2.0` for a division), and so do search tools over an index stage (Kiln's RAG tool and its answer layout); the
/// results of these deterministic tools are kept by arguments for the stage. MCP servers are started over stdio
/// when the first item needs them, their tools listed, and a server that dies is started again.
actor ToolBox {
    /// What a tool call gave: text for the model (an error is sent back too, as Kiln does), or a failure of the
    /// item (the tool's server is gone).
    enum Result: Sendable, Equatable {
        /// The tool's answer; a search also says which chunks it returned, best first.
        case output(String, retrieved: [JSONValue] = [])
        case error(String)
        case fatal(String)
        /// A task of the pipeline ran (a sub-agent): its output, or its failure sent back as an error.
        case delegated(SubAgent.Run)
        /// The run stops (Ctrl-C, the budget) while a task called as a tool was asking its model.
        case stopped(RunStop)
    }

    /// A search tool and how to open its index (when the first item needs it).
    struct SearchTool: Sendable {
        var spec: SearchToolSpec
        var open: @Sendable () throws -> IndexSearcher
    }

    /// The offered tools, once the servers are up.
    struct Offer: Sendable {
        /// Kiln tool ids, built-ins first, then each server's tools.
        var ids: [String]
        var definitions: [JSONValue]
        /// Whether a tool cannot be described from its id alone (an MCP server's or a search tool's): the
        /// definitions then travel with the item.
        var needsDefinitions: Bool

        /// Whether the model was offered a tool of this name.
        func offers(_ name: String) -> Bool {
            definitions.contains { $0["function"]?["name"]?.stringValue == name }
        }
    }

    private let builtIns: [String]
    private let servers: [any MCPServer]
    private let searchTools: [SearchTool]
    /// Tasks of the pipeline offered as tools, by function name.
    private let agents: [String: SubAgent]
    private let agentOrder: [String]
    /// Function name -> the search it runs, once the indexes are open.
    private var searchers: [String: (spec: SearchToolSpec, searcher: IndexSearcher)] = [:]
    /// Results of the deterministic tools (built-ins and searches) by name and arguments: the last 1,024 answers
    /// (an error is asked again).
    private var memo = RecentValues<String, Result>(limit: 1024)
    /// Function name -> the server offering it (built-ins are not here).
    private var serverByTool: [String: any MCPServer] = [:]
    private var preparing: Task<Offer, any Error>?
    private var restarting: [ObjectIdentifier: Task<Void, any Error>] = [:]

    init(ids: [String], servers: [MCPServerSpec] = [], searches: [SearchTool] = [], agents: [SubAgent] = []) {
        builtIns = ids
        self.servers = servers.map { spec in
            spec.url == nil ? MCPStdioServer(spec: spec) as any MCPServer : MCPHTTPServer(spec: spec)
        }
        searchTools = searches
        self.agents = Dictionary(agents.map { ($0.spec.name, $0) }) { first, _ in first }
        agentOrder = agents.map(\.spec.name)
    }

    /// The offered tools; the first call starts the servers and lists their tools (once, for every item).
    func offer() async throws -> Offer {
        if let preparing { return try await preparing.value }
        let task = Task { try await self.prepare() }
        preparing = task
        return try await task.value
    }

    private func prepare() async throws -> Offer {
        var offer = Offer(
            ids: builtIns, definitions: try KilnToolDefinitions.definitions(for: builtIns), needsDefinitions: false)
        for tool in searchTools {
            searchers[tool.spec.name] = (tool.spec, try tool.open())
            offer.ids.append(tool.spec.kilnID)
            offer.definitions.append(Self.definition(of: tool.spec))
            offer.needsDefinitions = true
        }
        for name in agentOrder {
            guard let agent = agents[name] else { continue }
            offer.ids.append(agent.spec.kilnID)
            offer.definitions.append(agent.definition)
            offer.needsDefinitions = true
        }
        for server in servers {
            try await server.start()
            let listed = try await server.listTools()
            let wanted = server.spec.tools.isEmpty ? listed.map(\.name) : server.spec.tools
            for name in wanted {
                guard let tool = listed.first(where: { $0.name == name }) else {
                    throw MCPFailure(
                        description: "MCP server '\(server.spec.name)' has no tool '\(name)' (it lists: "
                            + "\(listed.map(\.name).joined(separator: ", ")))")
                }
                guard serverByTool[name] == nil, searchers[name] == nil, agents[name] == nil,
                    !BuiltInTools.math.contains(where: { $0.name == name })
                else {
                    throw MCPFailure(
                        description: "two tools are named '\(name)' (MCP server '\(server.spec.name)' and another)")
                }
                serverByTool[name] = server
                offer.ids.append(server.spec.kilnID(of: name))
                offer.definitions.append(
                    KilnToolDefinitions.function(name: name, description: tool.description, parameters: tool.schema))
                offer.needsDefinitions = true
            }
        }
        return offer
    }

    /// Runs one call. A server that died is started again and the call retried once; when it dies again the item
    /// fails with what the server said.
    func run(_ call: ToolCall) async -> Result {
        if let agent = agents[call.name] {
            do {
                return try await agent.run(call)
            } catch {
                return .stopped(error)
            }
        }
        guard let server = serverByTool[call.name] else {
            let memoKey = call.name + "\u{1F}" + call.arguments
            if let known = memo[memoKey] { return known }
            let result: Result
            if let search = searchers[call.name] {
                result = await Self.search(call, with: search.searcher, k: search.spec.k)
            } else {
                let offered =
                    BuiltInTools.math.first { $0.name == call.name }.map { builtIns.contains($0.id) } ?? false
                result = offered ? Self.builtIn(call) : .error("Error: no tool named '\(call.name)' was offered")
            }
            if case .output = result { memo.keep(result, for: memoKey) }
            return result
        }
        guard let arguments = try? JSONValue(parsing: call.arguments), arguments.objectValue != nil else {
            return .error("Error: the arguments of '\(call.name)' are not a JSON object: \(call.arguments)")
        }
        // Once a server has died, its calls run one at a time: a call that kills it again is then the one that
        // did, and the calls that were only in flight beside it are not blamed.
        var failedHere = false
        for attempt in 0..<2 {
            let alone = crashed.contains(ObjectIdentifier(server))
            if alone { await acquire(server) }
            do {
                // After this call saw the server go, it starts it again itself: a dying process may not be
                // reaped yet (it still looks running), and a call sent to it would fail twice and be blamed.
                if failedHere || !server.isRunning { try await restart(server) }
                let (text, isError) = try await server.call(call.name, arguments: arguments)
                if alone { release(server) }
                return isError ? .error(text) : .output(text)
            } catch {
                if alone { release(server) }
                let failure = error as? MCPFailure
                let message = failure?.description ?? "\(error)"
                // An error the server answered goes back to the model; a server gone is retried.
                guard failure?.serverGone == true else { return .error("Error: \(message)") }
                crashed.insert(ObjectIdentifier(server))
                failedHere = true
                if attempt == 1 && alone { return .fatal("tool '\(call.name)': \(message)") }
            }
        }
        return .fatal("tool '\(call.name)': MCP server '\(server.spec.name)' is gone")
    }

    /// Servers that died during this stage: their calls are serialized.
    private var crashed: Set<ObjectIdentifier> = []
    private var busy: Set<ObjectIdentifier> = []
    private var waiting: [ObjectIdentifier: [CheckedContinuation<Void, Never>]] = [:]

    private func acquire(_ server: any MCPServer) async {
        let key = ObjectIdentifier(server)
        if busy.insert(key).inserted { return }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    private func release(_ server: any MCPServer) {
        let key = ObjectIdentifier(server)
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue
            next.resume()
        } else {
            busy.remove(key)
        }
    }

    /// Starts a dead server again (once, however many calls find it dead).
    private func restart(_ server: any MCPServer) async throws {
        let key = ObjectIdentifier(server)
        if let running = restarting[key] { return try await running.value }
        let task = Task {
            server.stop()
            try await server.start()
        }
        restarting[key] = task
        defer { restarting[key] = nil }
        try await task.value
    }

    /// Stops the servers (the stage is done).
    func stop() async {
        for server in servers { server.stop() }
        for agent in agents.values { await agent.tools.stop() }
    }

    /// Kiln's RAG tool definition: a `query` string, nothing else.
    static func definition(of search: SearchToolSpec) -> JSONValue {
        let query = JSONObject([("type", .string("string")), ("description", .string("The search query"))])
        let parameters = JSONObject([
            ("type", .string("object")), ("properties", .object(JSONObject([("query", .object(query))]))),
            ("required", .array([.string("query")])),
        ])
        return KilnToolDefinitions.function(
            name: search.name, description: search.description, parameters: .object(parameters))
    }

    /// A search: the top `k` chunks in Kiln's layout, and which chunks they are (for retrieval scores).
    static func search(_ call: ToolCall, with searcher: IndexSearcher, k: Int) async -> Result {
        guard let arguments = try? JSONValue(parsing: call.arguments), let query = arguments["query"]?.stringValue,
            !query.allSatisfy(\.isWhitespace)
        else {
            return .error("Error: '\(call.name)' takes a non-empty 'query' string (arguments: \(call.arguments))")
        }
        do {
            let hits = try await searcher.search(query, limit: k)
            let retrieved = hits.map { hit in
                JSONValue.object(
                    JSONObject([
                        ("document_id", .string(hit.documentID)), ("chunk_idx", .integer(hit.chunkIndex)),
                        ("start", .integer(hit.span.lowerBound)), ("end", .integer(hit.span.upperBound)),
                        ("tool", .string(call.name)),
                    ]))
            }
            return .output(SearchHit.kilnLayout(hits), retrieved: retrieved)
        } catch {
            return .error("Error: the search failed: \(error)")
        }
    }

    /// Kiln's built-in math tools.
    static func builtIn(_ call: ToolCall) -> Result {
        guard BuiltInTools.math.contains(where: { $0.name == call.name }) else {
            return .error("Error: no tool named '\(call.name)' was offered")
        }
        guard let arguments = try? JSONValue(parsing: call.arguments), arguments.objectValue != nil else {
            return .error("Error: the arguments of '\(call.name)' are not a JSON object: \(call.arguments)")
        }
        guard let a = arguments["a"], let b = arguments["b"], let x = a.numberValue, let y = b.numberValue else {
            return .error("Error: '\(call.name)' takes two numbers, a and b")
        }
        // Python keeps integers whole and writes floats by repr; a division is always a float.
        func whole(_ operation: (Int, Int) -> (partialValue: Int, overflow: Bool), _ real: Double) -> String {
            guard case .integer(let i) = a, case .integer(let j) = b else { return PythonJSON.repr(real) }
            let result = operation(i, j)
            return result.overflow ? PythonJSON.repr(real) : String(result.partialValue)
        }
        switch call.name {
        case "add": return .output(whole({ $0.addingReportingOverflow($1) }, x + y))
        case "subtract": return .output(whole({ $0.subtractingReportingOverflow($1) }, x - y))
        case "multiply": return .output(whole({ $0.multipliedReportingOverflow(by: $1) }, x * y))
        case "divide":
            guard y != 0 else { return .error("Error: Cannot divide by zero") }
            return .output(PythonJSON.repr(x / y))
        default: return .error("Error: no tool named '\(call.name)' was offered")
        }
    }
}
