import ArgumentParser
import Foundation
import KilnBasics
import KilnLoading
import KilnModel

/// Loads a pipeline for a command that acts on it: every diagnostic goes to standard error, and an invalid file
/// ends the command with exit code 2 before anything runs.
enum LoadedPipeline {
    static func load(_ file: String, options: PipelineOptions) throws -> Pipeline {
        let result = PipelineLoader.load(
            path: file,
            options: LoadOptions(
                variables: options.variableValues, environment: ProcessInfo.processInfo.environment,
                unresolvedVariablesAreErrors: true))
        for diagnostic in result.diagnostics { StandardError.write(diagnostic.description) }
        guard let pipeline = result.pipeline, result.isValid else {
            StandardError.write("\(file): invalid; nothing was run (kiln-pipe validate \(file) lists the same problems)")
            throw ExitCode(KilnExitCode.invalidInput)
        }
        return pipeline
    }

    /// `.kiln-pipe/state.sqlite` beside the pipeline file, unless `--state` moves it.
    static func statePath(for pipeline: Pipeline, override: String?) -> String {
        if let override { return override }
        return directory(of: pipeline).appendingPathComponent(".kiln-pipe/state.sqlite").path
    }

    static func directory(of pipeline: Pipeline) -> URL {
        URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent()
    }
}

/// `--state PATH`, shared by the commands that use the checkpoint store.
struct StateOptions: ParsableArguments {
    @Option(help: "The checkpoint store (default: .kiln-pipe/state.sqlite beside the pipeline file).")
    var state: String?
}
