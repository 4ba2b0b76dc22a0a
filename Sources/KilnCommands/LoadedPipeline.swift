import ArgumentParser
import Foundation
import KilnBasics
import KilnLoading
import KilnModel
import KilnRunner
import KilnStages
import KilnStore

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

    /// The pipeline in `file`, or nil when it is not a valid pipeline (nothing is printed).
    static func loadIfValid(_ file: String, options: PipelineOptions) -> Pipeline? {
        let result = PipelineLoader.load(
            path: file,
            options: LoadOptions(
                variables: options.variableValues, environment: ProcessInfo.processInfo.environment,
                unresolvedVariablesAreErrors: true))
        return result.isValid ? result.pipeline : nil
    }

    /// Runs `body` with the store opened for reading, or with nil when a local one does not exist yet (nothing has
    /// run: `status`, `plan`, `runs`, `compare` and `view` create no file and write nothing). A place that could
    /// never hold one is an error, as for `run`.
    static func withExistingStore<Result: Sendable>(
        _ statePath: String, _ body: ((any CheckpointStore)?) async throws -> Result
    ) async throws -> Result {
        if StatePlace.isDatabase(statePath) { return try await StoreLocation.with(statePath) { try await body($0) } }
        if FileManager.default.fileExists(atPath: statePath) {
            return try await body(try StoreLocation.openForReading(statePath))
        }
        var folder = URL(fileURLWithPath: statePath).deletingLastPathComponent()
        var isFolder: ObjCBool = false
        while !FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        guard isFolder.boolValue else {
            throw ActionableError(
                "cannot open the checkpoint store \(statePath): Not a directory (\(folder.path) is a file)",
                hint: "choose a writable place with --state (a file path, or postgres://… for a shared store)")
        }
        return try await body(nil)
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

    /// `.kiln-pipe/reports/<name>` beside the pipeline file: the judge stages' reports, a folder per stage.
    static func reportsDirectory(for pipeline: Pipeline) -> String {
        directory(of: pipeline).appendingPathComponent(".kiln-pipe/reports/\(pipeline.name)").path
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
