import ArgumentParser
import Foundation
import KilnBasics
import KilnLoading

/// `kiln-pipe schema`: the JSON Schema of the pipeline format, for editors.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the pipeline format (for editor completion and checks).",
        discussion: """
            Save it and point the YAML language server at it from the first line of a pipeline file: \
            `# yaml-language-server: $schema=kiln-pipe.schema.json` (VS Code, Neovim, JetBrains, Helix, Zed). Its \
            keys are the loader's own; `kiln-pipe validate` checks everything the schema cannot (references between \
            stages, files, secrets). docs/kiln-pipe.schema.json is the same file.
            """)

    func run() throws {
        print(try Self.text())
    }

    /// The schema, pretty-printed with sorted keys (so a committed copy diffs cleanly).
    static func text() throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(PipelineSchema.document.serialized().utf8))
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
