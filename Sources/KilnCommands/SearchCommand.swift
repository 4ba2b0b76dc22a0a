import ArgumentParser
import Foundation
import KilnBasics
import KilnIndex
import KilnRunner
import KilnStages

/// `kiln-pipe search FILE "query"`: ranked chunks from the index the pipeline's index stage built.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the documents a pipeline's index stage indexed.",
        discussion: """
            BM25 full-text search needs no model and no key. With embeddings on the index stage, --mode vector \
            ranks by cosine similarity and hybrid (the default then) fuses both rankings. Build or update the \
            index first with `kiln-pipe index FILE` (or `run`).
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Argument(help: "What to search for.")
    var query: String

    @Option(name: .short, help: "How many results.")
    var k = 5

    @Option(help: "bm25, vector or hybrid (default: hybrid when the index has embeddings, else bm25).")
    var mode: SearchMode?

    @Option(help: "The index stage to search (needed when the pipeline has several).")
    var index: String?

    @Flag(help: "Print the results as a JSON array.")
    var json = false

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        if k < 1 { throw ValidationError("-k must be at least 1") }
    }

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let (query, k, mode) = (query, k, mode)
        let hits = try await DocumentSearch.with(
            pipeline: pipeline, stageID: index,
            statePath: LoadedPipeline.statePath(for: pipeline, override: stateOptions.state),
            environment: ProcessInfo.processInfo.environment, fakeModel: FakeModel()
        ) { search in
            if let reason = search.embeddingsUnavailable, mode != .vector {
                StandardError.write("note: \(reason); searching with BM25 only")
            }
            return try await search.search(query, limit: k, mode: mode)
        }
        if json {
            print(JSONValue.array(hits.enumerated().map { Self.json($1, rank: $0 + 1) }).serialized())
            return
        }
        if hits.isEmpty { print("no results for \"\(query)\"") }
        for (rank, hit) in hits.enumerated() {
            var place = hit.documentID
            if let page = hit.page { place += "  page \(page)" }
            if !hit.headings.isEmpty { place += "  § " + hit.headings.joined(separator: " > ") }
            print("\(rank + 1). \(place)  [chunk \(hit.chunkIndex), score \(String(format: "%.3f", hit.score))]")
            print("   " + hit.snippet.split(whereSeparator: \.isNewline).joined(separator: " "))
        }
    }

    static func json(_ hit: SearchHit, rank: Int) -> JSONValue {
        var object = JSONObject()
        object["rank"] = .integer(rank)
        object["document_id"] = .string(hit.documentID)
        object["name"] = .string(hit.name)
        object["path"] = .string(hit.path)
        object["chunk_idx"] = .integer(hit.chunkIndex)
        object["page"] = hit.page.map(JSONValue.integer) ?? .null
        object["headings"] = .array(hit.headings.map(JSONValue.string))
        object["score"] = .double(hit.score)
        object["snippet"] = .string(hit.snippet)
        object["text"] = .string(hit.text)
        return .object(object)
    }
}

extension SearchMode: ExpressibleByArgument {}
