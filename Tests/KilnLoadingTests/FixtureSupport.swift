import Foundation
import KilnBasics
import KilnLoading

/// Locates and loads the pipeline fixtures that live next to these tests.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func names(in folder: String) -> [String] {
        let files =
            (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
        return files.filter { $0.hasSuffix(".yml") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Loads `folder/name.yml` the way `kiln-pipe validate` does when run inside that folder, with a fixed
    /// environment so results never depend on the machine.
    static func load(
        _ folder: String, _ name: String, options: LoadOptions = LoadOptions(environment: ["HOME": "/root"])
    )
        -> LoadResult
    {
        let directory = root.appendingPathComponent(folder)
        let data = (try? Data(contentsOf: directory.appendingPathComponent(name + ".yml"))) ?? Data()
        return PipelineLoader.load(data: data, file: name + ".yml", baseDirectory: directory.path, options: options)
    }

    /// Diagnostics as `validate` prints them, with the machine's fixture folder replaced by `<fixtures>`.
    static func rendered(_ result: LoadResult, folder: String) -> String {
        let directory = root.appendingPathComponent(folder).path
        return result.diagnostics.map { $0.description.replacingOccurrences(of: directory, with: "<fixtures>") }
            .joined(separator: "\n")
    }

    static func expected(_ name: String) -> String {
        let file = root.appendingPathComponent("invalid").appendingPathComponent(name + ".expected")
        return ((try? String(contentsOf: file, encoding: .utf8)) ?? "<missing \(name).expected>")
            .trimmingCharacters(in: .newlines)
    }
}
