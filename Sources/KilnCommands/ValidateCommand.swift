import ArgumentParser
import Foundation
import KilnBasics
import KilnLoading
import KilnModel

/// `kiln-pipe validate FILE...`: report every problem of every file at once; exit 0 when valid, 2 otherwise.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline files and report every problem at once.",
        discussion: """
            Each problem is printed as FILE:LINE:COL: error: <what> (<hint>). Unset environment variables are \
            warnings, since CI may set them. Exits 0 when every file is valid, 2 otherwise.
            """
    )

    /// Output formats for diagnostics.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Argument(help: "Pipeline files to check.", completion: .file(extensions: ["yml", "yaml"]))
    var files: [String]

    @OptionGroup var pipeline: PipelineOptions

    @Option(help: "How to print diagnostics: text for people, json for editors and scripts.")
    var format: Format = .text

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    func validate() throws {
        if files.isEmpty {
            throw ValidationError("name at least one pipeline file, e.g. kiln-pipe validate pipelines/quickstart.yml")
        }
    }

    func run() async throws {
        let options = LoadOptions(
            variables: pipeline.variableValues, environment: ProcessInfo.processInfo.environment,
            unresolvedVariablesAreErrors: false)
        var reports: [ValidationReport] = []
        for file in files {
            var result = PipelineLoader.load(path: file, options: options)
            if strict {
                result.diagnostics = result.diagnostics.map { diagnostic in
                    var diagnostic = diagnostic
                    diagnostic.severity = .error
                    return diagnostic
                }
            }
            reports.append(ValidationReport(file: file, result: result))
        }
        switch format {
        case .text: print(reports.map(\.text).joined(separator: "\n"))
        case .json: print(ValidationReport.json(reports))
        }
        if reports.contains(where: { !$0.isValid }) {
            throw ExitCode(KilnExitCode.invalidInput)
        }
    }
}
