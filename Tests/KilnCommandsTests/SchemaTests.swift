import Foundation
import Testing

/// `kiln-pipe schema`: the shipped copy is the command's output, and a JSON Schema validator nobody here wrote (the
/// Python `jsonschema` package, draft-07) accepts every pipeline the loader accepts and refuses the unknown keys it
/// refuses.
@Suite struct PipelineSchemaFile {
    @Test func docsHoldsWhatTheCommandPrints() throws {
        let printed = try KilnPipeBinary.run(["schema"])
        #expect(printed.status == 0)
        let shipped = try String(
            contentsOf: KilnPipeBinary.repositoryRoot.appendingPathComponent("docs/kiln-pipe.schema.json"),
            encoding: .utf8)
        #expect(printed.stdout == shipped, "docs/kiln-pipe.schema.json is stale: kiln-pipe schema > it")
    }

    /// Every `.yml` in a folder of the repository, as a path from the root.
    static func pipelines(in folder: String) -> [String] {
        let root = KilnPipeBinary.repositoryRoot
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
        return names.filter { $0.hasSuffix(".yml") }.sorted().map { "\(folder)/\($0)" }
    }

    /// What the validator says of each file: its errors (none: valid).
    static func validate(_ files: [String]) throws -> [String: [String]]? {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return nil }
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            validator = jsonschema.Draft7Validator(schema)
            verdicts = {}
            for path in sys.argv[2:]:
                try:
                    document = yaml.safe_load(open(path))
                    verdicts[path] = sorted(error.message for error in validator.iter_errors(document))
                except Exception as error:
                    verdicts[path] = ["cannot read: %s" % error]
            print(json.dumps(verdicts))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, "docs/kiln-pipe.schema.json"] + files
        process.currentDirectoryURL = KilnPipeBinary.repositoryRoot
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(message)")
        return try JSONSerialization.jsonObject(with: data) as? [String: [String]]
    }

    @Test func aPeerValidatorAcceptsWhatTheLoaderAcceptsAndRefusesUnknownKeys() throws {
        let valid =
            Self.pipelines(in: "Tests/KilnLoadingTests/Fixtures/valid") + Self.pipelines(in: "pipelines")
        #expect(valid.count >= 15)
        // The starters `kiln-pipe init` writes.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-schema-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var starters: [String] = []
        for kind in ["eval", "sdg", "docs", "agent", "kiln"] {
            let folder = scratch.appendingPathComponent(kind)
            #expect(try KilnPipeBinary.run(["init", kind, "--dir", folder.path]).status == 0)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yml") }
            starters += names.map { folder.appendingPathComponent($0).path }
        }
        #expect(starters.count == 5)
        let invalidFolder = KilnPipeBinary.repositoryRoot.appendingPathComponent(
            "Tests/KilnLoadingTests/Fixtures/invalid")
        let unknownKeys = try FileManager.default.contentsOfDirectory(atPath: invalidFolder.path).filter { name in
            guard name.hasSuffix(".expected") else { return false }
            let expected = try String(contentsOf: invalidFolder.appendingPathComponent(name), encoding: .utf8)
            return expected.contains("error: unknown key")
        }.map { "Tests/KilnLoadingTests/Fixtures/invalid/" + $0.replacingOccurrences(of: ".expected", with: ".yml") }
        #expect(unknownKeys.count >= 5)
        guard let verdicts = try Self.validate(valid + starters + unknownKeys) else {
            print("KILN_REFERENCE_PYTHON not set: the schema is not checked against a peer validator")
            return
        }
        for file in valid + starters { #expect(verdicts[file] == [], "\(file): \(verdicts[file] ?? [])") }
        for file in unknownKeys {
            #expect(verdicts[file]?.isEmpty == false, "\(file): the schema lets an unknown key through")
        }
    }
}
