import Foundation
import KilnBasics
import KilnLoading
import KilnModel
import Testing

@Suite struct ValidPipelines {
    @Test(arguments: Fixtures.names(in: "valid"))
    func loadsWithoutErrors(name: String) {
        let result = Fixtures.load("valid", name)
        #expect(!result.diagnostics.containsErrors, "\(Fixtures.rendered(result, folder: "valid"))")
        #expect(result.pipeline != nil)
    }

    @Test func everyStageTypeHasAValidFixture() {
        let types = Fixtures.names(in: "valid").flatMap { Fixtures.load("valid", $0).pipeline?.stages ?? [] }.map(
            \.type)
        #expect(Set(types) == Set(StageType.allCases))
    }

    /// An export written above the pipeline's folder (`../..`) is a warning; an absolute path the user wrote is not.
    @Test(arguments: [("../../exports", true), ("exports/../../x", true), ("exports/../x", false), ("/tmp/x", false)])
    func writingOutsideThePipelineFolderIsAWarning(_ out: String, _ warns: Bool) {
        let yaml = """
            version: 1
            stages:
              - {id: l, type: load, path: ../project/data.jsonl}
              - {id: e, type: export, from: l, out: "\(out)"}
            """
        let result = PipelineLoader.load(
            yaml: yaml, file: "p.yml", baseDirectory: Fixtures.root.appendingPathComponent("valid").path,
            options: LoadOptions(environment: [:]))
        #expect(!result.diagnostics.containsErrors, "\(result.diagnostics)")
        #expect(result.diagnostics.contains { $0.message.contains("climbs out of the pipeline's folder") } == warns)
    }

    /// `<<: *anchor` merges the anchored mapping's keys; the mapping's own keys win.
    @Test func mergeKeysInheritSettings() throws {
        let pipeline = try #require(Fixtures.load("valid", "merge-keys").pipeline)
        let other = try #require(pipeline.provider(named: "other"))
        #expect(other.kind == .fake && other.model == "fake-b" && other.maxConcurrency == 2)
        #expect(other.params.temperature == 0)
    }

    @Test func readsProvidersWithTheirLimitsAndDefaults() throws {
        let pipeline = try #require(Fixtures.load("valid", "generation").pipeline)
        let a = try #require(pipeline.provider(named: "a"))
        #expect(a.kind == .fake && a.maxConcurrency == 32 && a.requestsPerMinute == 600 && a.tokensPerMinute == 100_000)
        #expect(a.params.seed == 7 && a.apiKeyEnv == nil)
        let b = try #require(pipeline.provider(named: "b"))
        #expect(b.baseURL == "http://127.0.0.1:11434/v1" && b.apiKeyEnv == nil, "a self-hosted endpoint needs no key")
        #expect(b.params == ModelParams(temperature: 0.2, maxTokens: 512, topP: 0.9))
        #expect(b.timeoutSeconds == 30 && b.maxRetries == 3 && b.structuredOutput == .jsonSchema)
        #expect(b.inputPricePerMillion == 0 && b.outputPricePerMillion == 0)
        let task = try #require(pipeline.task)
        #expect(task.inputSchema?["required"] == .array([.string("message")]), "a JSON-string schema is parsed")
        #expect(task.outputSchema?["properties"]?.objectValue?.keys == ["reply", "tone", "tags"], "key order is kept")
        guard case .outputs(let outputs) = pipeline.stages[2].settings else {
            Issue.record("third stage is not outputs")
            return
        }
        #expect(
            outputs == OutputsSettings(models: ["a", "b"], samples: 2, thinking: true, filters: .init(dedup: .exact)))
    }

    @Test func readsJudgeThresholdsAndAssertions() throws {
        let pipeline = try #require(Fixtures.load("valid", "judge").pipeline)
        guard case .judge(let judge) = pipeline.stages[1].settings else {
            Issue.record("second stage is not a judge")
            return
        }
        #expect(
            judge.method == .gEval && judge.score == .fiveStar && !judge.chainOfThought && judge.maxErrorRate == 0.02)
        #expect(
            judge.assertions.map(\.name) == [
                "equals", "contains", "not_contains", "regex", "json_schema_valid", "has_answer", "json_path_equals",
                "max_latency_ms", "max_cost",
            ])
        #expect(
            judge.thresholds.first { $0.score == "overall" }?.conditions.map(\.description) == [
                "mean >= 4.2", "p10 >= 3",
            ])
        #expect(judge.thresholds.first { $0.score == "correct" }?.conditions.first?.metric == .critical)
    }

    @Test func readsSplitsAndExports() throws {
        let pipeline = try #require(Fixtures.load("valid", "datasets").pipeline)
        guard case .split(let split) = pipeline.stages[1].settings,
            case .split(let preset) = pipeline.stages[2].settings,
            case .export(let together) = pipeline.stages[4].settings
        else {
            Issue.record("unexpected stage order")
            return
        }
        #expect(
            split.parts.map(\.name) == ["train", "val", "test"] && split.seed == "v1" && split.filter == .highRating)
        #expect(split.conditions.first == ScoreCondition(score: "overall", comparison: .greaterOrEqual, value: 4))
        #expect(preset.parts == SplitPreset.trainTestVal80.parts)
        #expect(together.target == .together && together.format == nil && together.strategy == .finalOnly)
        #expect(ExportTarget.together.defaultFormat(structuredTask: true) == .openAIChatJSONSchema)
    }

    @Test func readsTheTaskFromAKilnProject() throws {
        let pipeline = try #require(Fixtures.load("valid", "kiln-task").pipeline)
        let task = try #require(pipeline.task)
        #expect(task.name == "Support reply")
        #expect(
            task.requirements == [
                TaskRequirement(name: "polite", instruction: "Never blame the customer.", type: .passFail, priority: 1)
            ])
        #expect(task.outputSchema?["required"] == .array([.string("reply")]))
        #expect(task.origin == .kilnProject(path: "../project/kiln/project.kiln", taskID: "111111111111"))
    }

    @Test func readsTasksOfferedAsTools() throws {
        let pipeline = try #require(Fixtures.load("valid", "sub-tasks").pipeline)
        guard case .outputs(let settings) = pipeline.stage(withID: "answers")?.settings else {
            Issue.record("answers is not an outputs stage")
            return
        }
        let calculator = try #require(settings.tools.subTasks.first)
        #expect(calculator.name == "calculator" && calculator.kilnID == "kiln_task::calculator")
        #expect(calculator.model == "worker" && calculator.description == "Works out arithmetic questions.")
        #expect(calculator.tools.builtIns.count == 4 && calculator.tools.maxToolCalls == 5)
        // A task called by a task is read first; a short instruction is its description.
        let checker = try #require(calculator.tools.subTasks.first)
        #expect(checker.name == "checker" && checker.description == "Say whether a number is prime.")
        #expect(checker.parameters["required"] == .array([.string("n")]), "its input schema is the tool's")
        #expect(calculator.parameters["required"] == .array([.string("input")]), "Kiln's plaintext input")
        #expect(settings.tools.allSubTasks.map(\.name) == ["calculator", "checker"])
        #expect(pipeline.stage(withID: "answers")?.settings.providerNames == ["boss", "worker"])
    }

    @Test func theSchemaDescribesEveryKeyTheLoaderReads() {
        #expect(PipelineSchema.undescribedKeys == [], "give these keys a schema entry in PipelineSchema")
    }

    @Test func readsPromptAndParameterVariants() throws {
        let pipeline = try #require(Fixtures.load("valid", "variants").pipeline)
        guard case .outputs(let settings) = pipeline.stage(withID: "answers")?.settings else {
            Issue.record("answers is not an outputs stage")
            return
        }
        #expect(settings.prompts.map(\.name) == ["default", "terse", "long", "warm"])
        #expect(settings.prompts[0].systemPrompt == nil, "task: the task's own prompt")
        #expect(settings.prompts[2].systemPrompt == "Answer in detail, with every step.")
        #expect(settings.prompts[3].systemPrompt?.hasPrefix("You answer customers of a small bookshop warmly") == true)
        #expect(settings.prompts[3].kilnPromptID == "id::222222222222")
        #expect(settings.params.map(\.name) == ["cold", "warm"])
        #expect(settings.params[1].params == ModelParams(temperature: 0.9, maxTokens: 300, topP: 0.95, seed: 7))
        #expect(settings.hasVariants && settings.unitsPerInput == 4 * 2 * 2)
        #expect(ParamsVariant.name(of: ModelParams(temperature: 0.5, maxTokens: 10)) == "temperature=0.5,max_tokens=10")
    }

    @Test func interpolatesVariablesEverywhere() throws {
        let pipeline = try #require(Fixtures.load("valid", "interpolation").pipeline)
        #expect(pipeline.name == "run-local")
        #expect(pipeline.provider(named: "p")?.model == "fake-model")
        #expect(pipeline.provider(named: "p")?.maxConcurrency == 4, "an interpolated string is read as an integer")
        #expect(pipeline.task?.instruction == "costs $5 and keeps ${HOME} as text")
        let overridden = Fixtures.load(
            "valid", "interpolation",
            options: LoadOptions(variables: ["RUN": "ci", "concurrency": "9"], environment: ["MODEL": "from-env"]))
        #expect(overridden.pipeline?.name == "run-ci")
        #expect(overridden.pipeline?.provider(named: "p")?.model == "from-env")
        #expect(overridden.pipeline?.provider(named: "p")?.maxConcurrency == 9, "--var wins over vars:")
    }
}
