import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnRunner
import KilnStages

/// `kiln-pipe freeze FILE`: the lock and cassette of a finished run, for byte-identical rebuilds elsewhere.
struct FreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze",
        abstract: "Write the lock and cassette of a finished run, for byte-identical rebuilds with no key.",
        discussion: """
            Replays the pipeline from the checkpoint store (no call), rewriting its outputs, then writes \
            kiln-pipe.lock.json (pipeline hash, per-stage unit hashes, models and parameters, counts, sha256 of \
            every output file) and cassette.jsonl (every result and provider call the outputs depend on; no keys). \
            Elsewhere: `kiln-pipe run FILE --cassette DIR/cassette.jsonl --offline`, then `kiln-pipe verify FILE`.
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Option(
        help: "Folder for kiln-pipe.lock.json and cassette.jsonl (default: frozen/<pipeline name> beside the file).")
    var dir: String?

    @Option(help: "Where the stages' items are written (default: .kiln-pipe/out/<name> beside the file).")
    var out: String?

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let folder = Self.folder(dir, pipeline: pipeline)
        let freezer = Freezer(
            pipeline: pipeline, statePath: LoadedPipeline.statePath(for: pipeline, override: stateOptions.state),
            outputDirectory: out ?? LoadedPipeline.outputDirectory(for: pipeline),
            lockPath: folder + "/kiln-pipe.lock.json", cassettePath: folder + "/cassette.jsonl")
        let result = try await freezer.freeze()
        print("froze \(pipeline.name): \(result.files) output files, \(result.records) recorded units")
        print("  lock:     \(freezer.lockPath)")
        print("  cassette: \(freezer.cassettePath)")
        print("rebuild anywhere with no key: kiln-pipe run \(file) --cassette \(freezer.cassettePath) --offline")
        print("then check it:                 kiln-pipe verify \(file)\(dir.map { " --dir \($0)" } ?? "")")
    }

    /// `--dir`, or `frozen/<name>` beside the pipeline file.
    static func folder(_ dir: String?, pipeline: Pipeline) -> String {
        if let dir { return URL(fileURLWithPath: dir).standardizedFileURL.path }
        return LoadedPipeline.directory(of: pipeline).appendingPathComponent("frozen/\(pipeline.name)").path
    }
}
