import KilnBasics
import Testing

@testable import KilnLoading

@Suite struct Interpolation {
    static let interpolator = Interpolator(
        commandLine: ["MODE": "cli"], fileVars: ["MODE": "file", "NAME": "file-name"],
        environment: ["MODE": "env", "NAME": "env-name", "HOME": "/home/u"])

    @Test(arguments: [
        ("plain text", "plain text"),
        ("${MODE}", "cli"),
        ("${NAME}", "file-name"),
        ("${HOME}/data", "/home/u/data"),
        ("${MISSING:-fallback}", "fallback"),
        ("${MISSING:-}", ""),
        ("${NAME:-unused}", "file-name"),
        ("$${NAME}", "${NAME}"),
        ("costs $5", "costs $5"),
        ("a${MODE}b${NAME}c", "aclibfile-namec"),
    ])
    func expands(text: String, expected: String) {
        let expansion = Self.interpolator.expand(text)
        #expect(expansion == Interpolator.Expansion(text: expected))
    }

    @Test func reportsUnsetVariablesAndBadSyntax() {
        #expect(Self.interpolator.expand("x${UNSET}y").unresolved == ["UNSET"])
        #expect(Self.interpolator.expand("${OPEN").problems == ["unterminated '${' in '${OPEN'"])
        #expect(Self.interpolator.expand("${A-B}").problems == ["'${A-B}' is not a valid variable reference"])
    }

    @Test func unsetVariablesAreWarningsWhenValidatingAndErrorsWhenRunning() {
        let yaml = "version: 1\nname: ${RUN_NAME}\nstages:\n  - {id: t, type: topics, provider: p}\n"
        let validate = PipelineLoader.load(yaml: yaml, file: "p.yml", baseDirectory: "/tmp", options: LoadOptions())
        #expect(validate.diagnostics.first?.severity == .warning)
        let run = PipelineLoader.load(
            yaml: yaml, file: "p.yml", baseDirectory: "/tmp", options: LoadOptions(unresolvedVariablesAreErrors: true))
        #expect(run.diagnostics.first?.severity == .error)
        #expect(
            run.diagnostics.first?.description.hasPrefix("p.yml:2:7: error: variable 'RUN_NAME' is not set") == true)
    }
}

@Suite struct LiteralSecrets {
    @Test(arguments: [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123", true),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwx", true),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv", true),
        ("gsk_abcdefghijklmnopqrstuvwxyz", true),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz.123", true),
        ("OPENAI_API_KEY", false),
        ("use scikit-learn (sk-learn) for this task", false),
        ("task-oriented dialogue about disk-space", false),
        ("xai-abcdefghijklmnopqrstuvwxyz", true),
        ("hf_abcdefghijklmnopqrstuvwxyz0123456", true),
        ("fw_abcdefghijklmnopqrstuvwxyz", true),
        ("sk-abcdefghijklmnopqrs is one short", false),
        ("hf_abcdefghijklmnopqrstuvwxyz012 is one short", false),
        ("the bearer of good news arrives tomorrow", false),
        ("bearer\tabcdefghijklmnopqrstuvwxyz", true),
        ("a key in the middle: sk-sk-abcdefghijklmnopqrstuvwxyz.", true),
    ])
    func recognisesKeyShapes(text: String, isSecret: Bool) {
        #expect(SecretPatterns.looksLikeSecret(text) == isSecret)
    }

    @Test func aKeyFromTheEnvironmentIsNotLiteral() {
        let yaml = "version: 1\nname: ${KEYLIKE}\nstages:\n  - {id: d, type: ingest, paths: [x]}\n"
        let result = PipelineLoader.load(
            yaml: yaml, file: "p.yml", baseDirectory: "/tmp",
            options: LoadOptions(environment: ["KEYLIKE": "sk-proj-abcdefghijklmnopqrstuvwxyz0123"]))
        #expect(!result.diagnostics.containsErrors)
    }
}
