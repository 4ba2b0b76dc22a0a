import Foundation
import Testing

/// End to end: the built binary, its output and its exit codes.
@Suite struct CommandLineBehaviour {
    static let invalidFixtures = KilnPipeBinary.repositoryRoot.appendingPathComponent(
        "Tests/KilnLoadingTests/Fixtures/invalid")

    @Test func helpListsCommandsAndExitCodes() throws {
        let outcome = try KilnPipeBinary.run(["--help"])
        #expect(outcome.status == 0)
        for command in ["validate", "plan", "run", "status"] { #expect(outcome.stdout.contains(command)) }
        #expect(outcome.stdout.contains("130  interrupted"))
        let validateHelp = try KilnPipeBinary.run(["validate", "--help"])
        #expect(validateHelp.status == 0 && validateHelp.stdout.contains("--format <format>"))
    }

    @Test func printsItsVersion() throws {
        let outcome = try KilnPipeBinary.run(["--version"])
        #expect(outcome.status == 0 && outcome.stdout == "0.1.0\n")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func generatesCompletionScripts(shell: String) throws {
        let outcome = try KilnPipeBinary.run(["--generate-completion-script", shell])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("kiln-pipe") && outcome.stdout.contains("validate"))
    }

    @Test func validatesTheQuickstartPipeline() throws {
        let outcome = try KilnPipeBinary.run(["validate", "pipelines/quickstart.yml"])
        #expect(outcome.status == 0, "\(outcome.stdout)")
        #expect(outcome.stdout.hasPrefix("pipelines/quickstart.yml: valid: 3 providers, 9 stages"))
    }

    @Test func runsTheDemoPipelineWithNoKeyAndResumesWithNoCall() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let arguments = [
            "run", "pipelines/golden-answers.yml", "--state", scratch.appendingPathComponent("state.sqlite").path,
            "--out", scratch.path, "--quiet",
        ]
        let first = try KilnPipeBinary.run(arguments)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("answers  outputs  24     0       24"))
        let lines = try String(contentsOf: scratch.appendingPathComponent("answers.jsonl"), encoding: .utf8).split(
            separator: "\n")
        #expect(lines.count == 24)
        let second = try KilnPipeBinary.run(arguments)
        #expect(second.status == 0)
        #expect(second.stdout.contains("answers  outputs  24     24      0         0       0"), "\(second.stdout)")
    }

    @Test func reportsFiveLocatedMistakesAndExitsTwo() throws {
        let outcome = try KilnPipeBinary.run(["validate", "five-mistakes.yml"], in: Self.invalidFixtures)
        #expect(outcome.status == 2)
        let errors = outcome.stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 5)
        #expect(errors.allSatisfy { $0.wholeMatch(of: /five-mistakes\.yml:\d+:\d+: error: .+/) != nil })
        #expect(outcome.stdout.hasSuffix("five-mistakes.yml: invalid: 5 errors, 1 warning\n"))
        #expect(outcome.stderr.isEmpty, "no stack trace or log noise")
    }

    @Test func reportsEveryFileInOneRun() throws {
        let outcome = try KilnPipeBinary.run(
            ["validate", "provider-unknown-key.yml", "missing.yml", "cycle-self.yml"], in: Self.invalidFixtures)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.contains("provider-unknown-key.yml:5:5: error: unknown key 'max_concurency'"))
        #expect(outcome.stdout.contains("missing.yml: error: cannot read pipeline file: no such file"))
        #expect(outcome.stdout.contains("cycle-self.yml:8:5: error: stages form a cycle: answers -> answers"))
    }

    @Test func printsDiagnosticsAsJSONForEditors() throws {
        let outcome = try KilnPipeBinary.run(
            ["validate", "--format", "json", "provider-unknown-key.yml"], in: Self.invalidFixtures)
        #expect(outcome.status == 2)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(document["valid"] as? Bool == false)
        let diagnostic = try #require((document["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["file"] as? String == "provider-unknown-key.yml")
        #expect(diagnostic["line"] as? Int == 5 && diagnostic["column"] as? Int == 5)
        #expect(diagnostic["severity"] as? String == "error")
        #expect(diagnostic["hint"] as? String == "did you mean 'max_concurrency'?")
    }

    @Test func warningsPassUnlessStrict() throws {
        let file = "unset-variable-warning-and-error.yml"
        let fixed = try String(contentsOf: Self.invalidFixtures.appendingPathComponent(file), encoding: .utf8)
            .replacingOccurrences(of: ", rpm: many", with: "")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try fixed.replacingOccurrences(of: "../project/data.jsonl", with: "data.jsonl")
            .write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        try "{}\n".write(to: directory.appendingPathComponent("data.jsonl"), atomically: true, encoding: .utf8)
        let lenient = try KilnPipeBinary.run(["validate", "p.yml"], in: directory)
        #expect(lenient.status == 0, "\(lenient.stdout)")
        #expect(lenient.stdout.contains("p.yml:3:36: warning: variable 'CONCURRENCY' is not set"))
        let strict = try KilnPipeBinary.run(["validate", "--strict", "p.yml"], in: directory)
        #expect(strict.status == 2)
        let provided = try KilnPipeBinary.run(
            ["validate", "--strict", "--var", "CONCURRENCY=4", "p.yml"], in: directory)
        #expect(provided.status == 0, "\(provided.stdout)")
        let fromEnvironment = try KilnPipeBinary.run(
            ["validate", "--strict", "p.yml"], in: directory, environment: ["CONCURRENCY": "4"])
        #expect(fromEnvironment.status == 0)
    }

    @Test(arguments: [
        (["validate"], "Missing expected argument"),
        (["validate", "--var", "novalue", "pipelines/quickstart.yml"], "--var expects name=value, got 'novalue'"),
        (["validate", "--format", "xml", "pipelines/quickstart.yml"], "The value 'xml' is invalid for '--format"),
        (["frobnicate"], "Unexpected argument 'frobnicate'"),
    ])
    func usageErrorsExitTwoWithAMessage(arguments: [String], message: String) throws {
        let outcome = try KilnPipeBinary.run(arguments)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }
}
