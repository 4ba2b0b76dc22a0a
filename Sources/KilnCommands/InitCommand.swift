import ArgumentParser
import Foundation
import KilnBasics

/// `kiln-pipe init [TEMPLATE]`: a commented starter pipeline and a tiny dataset that run at once against the fake.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter pipeline and a tiny dataset that run at once (no key needed).",
        discussion: InitTemplates.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n")
    )

    @Argument(help: "What to start: \(InitTemplates.allCases.map(\.rawValue).joined(separator: ", ")).")
    var template: String = InitTemplates.eval.rawValue

    @Option(help: "The folder to write into (made when missing).")
    var dir = "."

    @Flag(help: "Replace files that are already there.")
    var force = false

    /// The schema written beside the pipeline, which names it in its first line.
    static let schemaFile = "kiln-pipe.schema.json"

    func run() throws {
        guard let chosen = InitTemplates(rawValue: template) else {
            throw ActionableError(
                "unknown template '\(template)'",
                hint: NearMiss.hint(for: template, among: InitTemplates.allCases.map(\.rawValue), listing: "templates"))
        }
        let folder = URL(fileURLWithPath: dir)
        // With the JSON Schema the pipeline's first line names: editors complete and check its keys.
        let files = chosen.files + [(path: Self.schemaFile, text: try SchemaCommand.text() + "\n")]
        let existing = files.map(\.path).filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        guard force || existing.isEmpty else {
            throw ActionableError(
                "\(existing.map { folder.appendingPathComponent($0).path }.joined(separator: ", ")) already "
                    + "\(existing.count == 1 ? "exists" : "exist"); nothing was written",
                hint: "choose another --dir, or --force to replace them")
        }
        for file in files {
            let url = folder.appendingPathComponent(file.path)
            do {
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.text.utf8).write(to: url, options: .atomic)
            } catch {
                throw ActionableError.io("write", url.path, hint: "choose a writable --dir", cause: error)
            }
        }
        let pipeline = dir == "." ? chosen.pipelineFile : folder.appendingPathComponent(chosen.pipelineFile).path
        print("wrote \(files.map(\.path).joined(separator: ", ")): \(chosen.summary)")
        print("next:")
        print("  kiln-pipe validate \(pipeline)   # check it (file:line:column for every mistake)")
        print("  kiln-pipe run \(pipeline)        # run it against the fake (then point a provider at a real model)")
        print("  kiln-pipe status \(pipeline)     # what is done, what failed, what it cost")
    }
}
