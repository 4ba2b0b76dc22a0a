import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnProject
import Testing

@testable import KilnStages

/// Runs that called tools export exactly as Kiln 1.2.0's DatasetFormatter writes them: their tool calls and tool
/// results in every format, the tool definitions where Kiln writes them, for every strategy and split part. The
/// goldens (Snapshots/tools) and the Kiln project they come from were made by kiln-ai 1.2.0 itself
/// (Snapshots/tools/make_snapshots.py); with `make test`'s KILN_FULL_PYTHON, Kiln remakes them here to prove it.
@Suite struct ToolTraceExport {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots/tools")

    static let cases: [(ExportFormat, ChatStrategy, String)] = ExportFormat.allCases.flatMap { format in
        ChatStrategy.exportable.flatMap { strategy in ["train", "test"].map { (format, strategy, $0) } }
    }

    /// Kiln's Hugging Face task-response ids are random: blanked on both sides.
    static func blank(_ line: String) -> String {
        line.replacing(/("name": "task_response", "id": )"[^"]*"/) { "\($0.output.1)\"\"" }
    }

    /// An error's text up to what depends on the JSON parser's wording (Python's or ours).
    static func comparable(_ message: String) -> String {
        message.components(separatedBy: "structured data:").first ?? message
    }

    @Test(arguments: cases)
    func matchesKilnsFormatter(format: ExportFormat, strategy: ChatStrategy, part: String) throws {
        let project = try KilnProjectFolder(projectFile: Self.folder.appendingPathComponent("project").path)
        let taskFolder = try #require(try project.tasks().first)
        let task = try KilnTaskReader.definition(of: taskFolder, in: project)
        let split = try #require(taskFolder.datasetSplits().first)
        let ids = split["split_contents"]?[part]?.arrayValue?.compactMap(\.stringValue) ?? []
        let golden = try String(
            contentsOf: Self.folder.appendingPathComponent("\(format.rawValue)--\(strategy.rawValue)--\(part).jsonl"),
            encoding: .utf8
        ).split(separator: "\n").map(String.init)
        #expect(golden.count == ids.count)
        let instructions = TrainingChat.thinkingInstructions(
            strategy: strategy, custom: nil, task: task.thinkingInstruction)
        for (id, expected) in zip(ids, golden) {
            let run = try KilnProjectFolder.readJSON(taskFolder.runFile(id: id), what: id)
            do {
                let line = try ExportFormatter.line(
                    for: try ExportFiles.example(from: KilnRunsReader.item(from: run, id: id)), format: format,
                    system: TaskPrompt.systemMessage(for: task), strategy: strategy, thinkingInstructions: instructions)
                #expect(Self.blank(line) == Self.blank(expected), "run \(id)")
            } catch {
                #expect(expected.hasPrefix("ERROR "), "run \(id): unexpected \(error.message)")
                #expect(Self.comparable(error.message) == Self.comparable(String(expected.dropFirst(6))), "run \(id)")
            }
        }
    }

    /// The goldens are what Kiln 1.2.0 writes today from the project beside them.
    @Test func kilnRemakesTheGoldens() throws {
        guard let python = KilnPython.path else { return }
        let (status, text) = try KilnPython.run(
            python, [Self.folder.appendingPathComponent("make_snapshots.py").path, Self.folder.path, "--check"])
        #expect(status == 0, "\(text)")
        #expect(text.contains(#""files": 36, "different": []"#), "\(text)")
    }

    /// A tool kiln-pipe cannot describe is Kiln's error with what to do, never an example without its tools.
    @Test func aToolKilnPipeCannotDescribeIsAnError() throws {
        #expect {
            try KilnToolDefinitions.definitions(for: ["kiln_tool::add_numbers", "mcp::local::server::lookup"])
        } throws: { error in
            "\(error)".hasPrefix("Failed to get tool definition for tool ID 'mcp::local::server::lookup': ")
        }
    }
}
