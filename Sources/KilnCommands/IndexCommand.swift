import ArgumentParser
import KilnModel

/// `kiln-pipe index FILE`: runs the pipeline's ingest and index stages only (a `run --only` of its index stages).
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build or update the pipeline's search indexes (its ingest and index stages only).",
        discussion: """
            Unchanged documents are not read again, changed ones are re-extracted and replaced, deleted ones are \
            removed from the index. Exit codes as for run (3 when some documents could not be read).
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Flag(help: "Re-extract every document and rebuild the index from scratch.")
    var fresh = false

    @Flag(help: "Print only the final summary.")
    var quiet = false

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let stages = pipeline.stages.filter { $0.type == .index }.map(\.id)
        guard !stages.isEmpty else {
            throw ValidationError("\(file) has no index stage; add {id: idx, type: index, from: <ingest stage>}")
        }
        var arguments = [file, "--only"] + stages
        if fresh {
            arguments +=
                stages.flatMap { ["--fresh-stage", $0] }
                + upstreamIngest(of: pipeline).flatMap { ["--fresh-stage", $0] }
        }
        if quiet { arguments.append("--quiet") }
        arguments += pipelineOptions.variables.flatMap { ["--var", $0] }
        if let state = stateOptions.state { arguments += ["--state", state] }
        let run = try RunCommand.parse(arguments)
        try await run.run()
    }

    private func upstreamIngest(of pipeline: Pipeline) -> [String] {
        pipeline.stages.filter { $0.type == .ingest }.map(\.id)
    }
}
