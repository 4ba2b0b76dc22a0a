import ArgumentParser
import Foundation
import KilnBasics
import KilnLoading
import KilnModel
import KilnRunner
import KilnStages

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
            StandardError.write(
                "\(file): invalid; nothing was run (kiln-pipe validate \(file) lists the same problems)")
            throw ExitCode(KilnExitCode.invalidInput)
        }
        return pipeline
    }

    /// The pipeline, its store and what a run of it would do now (shared by `plan` and `status`).
    static func planned(
        _ file: String, options: PipelineOptions, state: StateOptions
    ) async throws
        -> (pipeline: Pipeline, statePath: String, plans: [StagePlan])
    {
        let pipeline = try load(file, options: options)
        let statePath = statePath(for: pipeline, override: state.state)
        return (pipeline, statePath, try await Planner(pipeline: pipeline, statePath: statePath).plan())
    }

    /// `.kiln-pipe/state.sqlite` beside the pipeline file, unless `--state` moves it.
    static func statePath(for pipeline: Pipeline, override: String?) -> String {
        if let override { return override }
        return directory(of: pipeline).appendingPathComponent(".kiln-pipe/state.sqlite").path
    }

    /// `.kiln-pipe/out/<name>` beside the pipeline file, where `run` writes each stage's items.
    static func outputDirectory(for pipeline: Pipeline) -> String {
        directory(of: pipeline).appendingPathComponent(".kiln-pipe/out/\(pipeline.name)").path
    }

    static func directory(of pipeline: Pipeline) -> URL {
        URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent()
    }
}

/// `--state PATH`, shared by the commands that use the checkpoint store.
struct StateOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The checkpoint store: an SQLite file (default: .kiln-pipe/state.sqlite beside the pipeline file), "
                + "or a PostgreSQL database shared by sharded runs.",
            valueName: "path|postgres://user@host:5432/db"))
    var state: String?
}
