import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnRunner
import KilnStages

/// `kiln-pipe export`: a Kiln project's dataset split as fine-tune files, no pipeline file needed.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a dataset split of a Kiln project as fine-tune files, exactly as Kiln writes them.",
        discussion: """
            Example: kiln-pipe export --kiln-project my/project.kiln --task 142857142857 --split "Nov split" \
            --part train --target together --strategy final_only --out train.jsonl
            """)

    @Option(
        name: .customLong("kiln-project"), help: "The Kiln project folder, or its project.kiln.",
        completion: .file(extensions: ["kiln"]))
    var kilnProject: String

    @Option(help: "The task id (the 12-digit id in task.kiln).")
    var task: String

    @Option(help: "The dataset split, by id or name.")
    var split: String

    @Option(help: "One part of the split (e.g. train); without it every part is written to --out as a folder.")
    var part: String?

    @Option(
        help: ArgumentHelp(
            "openai_chat_jsonl, openai_chat_json_schema_jsonl, openai_chat_toolcall_jsonl, "
                + "huggingface_chat_template_jsonl, huggingface_chat_template_toolcall_jsonl or vertex_gemini "
                + "(default: the target's).")
    )
    var format: String?

    @Option(help: "final_only, two_message_cot or final_and_intermediate_r1_compatible.")
    var strategy: String = ChatStrategy.finalOnly.rawValue

    @Option(help: "fireworks, together, vertex or openai: picks the format and the service's rules.")
    var target: String?

    @Option(name: .customLong("system-message"), help: "Replace the system message built from the task.")
    var systemMessage: String?

    @Option(name: .customLong("thinking-instructions"), help: "Thinking instructions for chain-of-thought strategies.")
    var thinkingInstructions: String?

    @Option(
        help: "The output file with --part (.jsonl is added when missing), else the folder of <part>.jsonl files.")
    var out: String

    @Flag(help: "Replace files kiln-pipe did not write (or that were edited since it wrote them).")
    var force = false

    @Option(
        help: ArgumentHelp(
            "The checkpoint store that remembers which files kiln-pipe wrote (default: .kiln-pipe/state.sqlite here).",
            valueName: "path|postgres://user@host:5432/db"))
    var state: String = ".kiln-pipe/state.sqlite"

    func validate() throws {
        if let format, ExportFormat(rawValue: format) == nil {
            throw ValidationError(
                "unknown --format '\(format)'; one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let strategy = ChatStrategy(rawValue: strategy), ChatStrategy.exportable.contains(strategy) else {
            let strategies = ChatStrategy.exportable.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown --strategy '\(strategy)'; one of \(strategies)")
        }
        if let target, ExportTarget(rawValue: target) == nil {
            throw ValidationError(
                "unknown --target '\(target)'; one of \(ExportTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let settings = ExportSettings(
            format: format.flatMap(ExportFormat.init(rawValue:)),
            strategy: ChatStrategy(rawValue: strategy) ?? .finalOnly,
            target: target.flatMap(ExportTarget.init(rawValue:)), out: out, systemMessage: systemMessage,
            thinkingInstructions: thinkingInstructions)
        let export = KilnSplitExport(
            projectFile: kilnProject, taskID: task, split: split, part: part, settings: settings, force: force)
        let written = try await StoreLocation.with(state) { try await export.run(store: $0) }
        for (path, count) in written { print("wrote \(counted(count, "example")) to \(path)") }
    }
}
