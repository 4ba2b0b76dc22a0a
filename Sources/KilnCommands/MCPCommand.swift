import ArgumentParser
import Foundation
import KilnIndex
import KilnModel
import KilnRunner
import KilnStages
import MCP

/// `kiln-pipe mcp FILE`: an MCP server on stdin/stdout with a read-only `search` tool over the pipeline's index,
/// answering the way Kiln's own search tool does, so agents built for Kiln can use it. It opens no network port.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the pipeline's search index to agents over MCP (stdio).",
        discussion: """
            Add it to an MCP client as a stdio server, e.g. command "kiln-pipe", \
            args ["mcp", "/path/to/pipeline.yml"]. \
            The server only reads the index; it exits when its input closes.
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Option(help: "The index stage to serve (needed when the pipeline has several).")
    var index: String?

    @Option(name: .short, help: "Results per search unless the call asks for another number.")
    var k = 5

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let defaultK = k
        // The search (its index, embedding provider and store) lives as long as the server.
        try await DocumentSearch.with(
            pipeline: pipeline, stageID: index,
            statePath: LoadedPipeline.statePath(for: pipeline, override: stateOptions.state),
            environment: ProcessInfo.processInfo.environment, fakeModel: FakeModel()
        ) { search in try await Self.serve(search, pipeline: pipeline, defaultK: defaultK) }
    }

    /// Answers MCP requests on standard input and output until the client closes them.
    static func serve(_ search: DocumentSearch, pipeline: Pipeline, defaultK: Int) async throws {
        let server = Server(
            name: "kiln-pipe", version: KilnPipeCommand.version,
            instructions: "Search the documents of \(pipeline.name) indexed by stage '\(search.stageID)'."
                + (search.embeddingsUnavailable.map { " BM25 only: \($0)." } ?? ""),
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            .init(tools: [Self.tool(pipelineName: pipeline.name, defaultK: defaultK)])
        }
        await server.withMethodHandler(CallTool.self) { params in
            // An unknown tool is a protocol error; a bad argument value is the tool's error (the model can fix it).
            guard params.name == "search" else {
                throw MCPError.invalidParams("Unknown tool: '\(params.name)'; this server has: search")
            }
            guard let query = params.arguments?["query"]?.stringValue, !query.allSatisfy(\.isWhitespace) else {
                return .init(
                    content: [
                        .text(text: "the search tool needs a non-empty 'query' string", annotations: nil, _meta: nil)
                    ], isError: true)
            }
            if query.utf8.count > Self.maximumQueryBytes {
                return Self.refusal(
                    "the query is \(query.utf8.count) bytes; search takes at most \(Self.maximumQueryBytes)")
            }
            let limit = params.arguments?["k"].map { $0.intValue } ?? defaultK
            guard let limit, Self.kRange.contains(limit) else {
                return Self.refusal(
                    "k must be a whole number from \(Self.kRange.lowerBound) to \(Self.kRange.upperBound)")
            }
            do {
                let hits = try await search.search(query, limit: limit)
                return .init(
                    content: [.text(text: SearchHit.kilnLayout(hits), annotations: nil, _meta: nil)], isError: false)
            } catch {
                return .init(
                    content: [.text(text: "search failed: \(error)", annotations: nil, _meta: nil)], isError: true)
            }
        }
        try await server.start(transport: JSONRPCGate(StdioTransport()))
        await server.waitUntilCompleted()
    }

    /// The longest query searched (bytes): a longer one is refused, not searched for seconds.
    static let maximumQueryBytes = 4096
    /// What `k` may be.
    static let kRange = 1...50

    static func refusal(_ message: String) -> CallTool.Result {
        .init(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }

    static func tool(pipelineName: String, defaultK: Int) -> Tool {
        Tool(
            name: "search",
            description:
                "Search the \(pipelineName) documents; returns the most relevant chunks with their document id.",
            inputSchema: .object([
                "type": .string("object"),
                "properties": .object([
                    "query": .object([
                        "type": .string("string"),
                        "description": .string(
                            "What to look for, in natural language or keywords (at most \(maximumQueryBytes) bytes)."),
                        "maxLength": .int(maximumQueryBytes),
                    ]),
                    "k": .object([
                        "type": .string("integer"),
                        "description": .string(
                            "How many chunks to return, \(kRange.lowerBound) to \(kRange.upperBound) "
                                + "(default \(defaultK))."),
                        "minimum": .int(kRange.lowerBound), "maximum": .int(kRange.upperBound),
                    ]),
                ]),
                "required": .array([.string("query")]),
            ]),
            annotations: .init(readOnlyHint: true, openWorldHint: false))
    }

}
