import ArgumentParser

/// `kiln-pipe`: the root command.
struct KilnPipeCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "kiln-pipe",
        abstract: "Run Kiln AI workflows headless: synthetic data, LLM-judge evals, splits, fine-tune exports, search.",
        discussion: """
            A pipeline file (YAML) declares providers and stages; see docs/pipeline-format.md.

            Exit codes:
              0    success (valid file; run finished and every threshold held)
              1    an eval threshold failed
              2    usage error, invalid pipeline file or input, or a setup problem (what finished is saved)
              3    the run finished with failed items
              4    the cost budget was reached
              130  interrupted (rerun to resume)
            """,
        version: version,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, RunCommand.self, StatusCommand.self, ExportCommand.self,
            IndexCommand.self,
            SearchCommand.self, MCPCommand.self, FreezeCommand.self, VerifyCommand.self, InitCommand.self,
            RunsCommand.self, CompareCommand.self, ViewCommand.self, SchemaCommand.self,
        ]
    )

    init() {}
}
