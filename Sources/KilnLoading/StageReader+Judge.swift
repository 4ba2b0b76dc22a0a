import KilnBasics
import KilnModel
import Yams

extension StageReader {
    static let assertionKeys = [
        "type", "name", "value", "pattern", "path", "schema", "ignore_case", "tool", "arguments", "k", "threshold",
        "embeddings",
    ]

    mutating func readJudge() -> JudgeSettings? {
        let providerName = provider(fields["provider"], "provider")
        let method: JudgeMethod? = reader.choice(fields["method"], "judge method")
        let score: ScoreType? = reader.choice(fields["score"], "score type")
        let rubric = builder.readRequirements(fields["rubric"], context: "a rubric item of \(label)")
        let chainOfThought = reader.bool(fields["chain_of_thought"], "chain_of_thought")
        let assertions = readAssertions(fields["assertions"])
        let maxErrorRate = reader.double(fields["max_error_rate"], "max_error_rate", in: 0...1)
        if !fields.has("provider"), !fields.has("assertions") {
            reader.error(
                at: fields.node, "\(label) has neither a judge 'provider' nor 'assertions'",
                hint: "add provider: <a provider> for an LLM judge, or assertions: for model-free checks, or both")
            return nil
        }
        if fields.has("provider"), rubric.isEmpty, builder.task == nil, !builder.taskDeclared {
            reader.error(
                at: fields.node, "\(label) has an LLM judge but nothing to judge against",
                hint: "add a top-level task with requirements, or a 'rubric:' list on this stage")
        }
        let effectiveRubric = rubric.isEmpty ? (builder.task?.requirements ?? []) : rubric
        let thresholds = readThresholds(
            fields["thresholds"], hasJudge: providerName != nil, score: score ?? .fiveStar, rubric: effectiveRubric,
            assertions: assertions ?? [])
        guard let assertions, let thresholds else { return nil }
        guard providerName != nil || !fields.has("provider") else { return nil }
        return JudgeSettings(
            provider: providerName, method: method ?? .llmAsJudge, score: score ?? .fiveStar, rubric: rubric,
            chainOfThought: chainOfThought ?? true, assertions: assertions, thresholds: thresholds,
            maxErrorRate: maxErrorRate ?? 0)
    }

    private mutating func readAssertions(_ node: Node?) -> [Assertion]? {
        guard let node else { return [] }
        guard let elements = reader.sequence(node, "assertions") else { return nil }
        var assertions: [Assertion] = []
        var names: Set<String> = []
        var kindCounts: [Assertion.Kind: Int] = [:]
        var failed = false
        for element in elements {
            guard
                let fields = reader.fields(
                    element, context: "an assertion of \(label)", allowed: Self.assertionKeys, required: ["type"]),
                let kind: Assertion.Kind = reader.choice(fields["type"], "assertion type")
            else {
                failed = true
                continue
            }
            guard var assertion = readAssertion(kind, fields) else {
                failed = true
                continue
            }
            if let explicit = fields["name"] {
                guard let name = reader.string(explicit, "name") else { continue }
                if names.contains(name) {
                    reader.error(
                        at: explicit, "duplicate assertion name '\(name)'", hint: "scores are reported by name")
                    failed = true
                }
                assertion.name = name
            } else {
                let count = kindCounts[kind, default: 0] + 1
                kindCounts[kind] = count
                assertion.name = count == 1 ? assertion.name : "\(assertion.name)_\(count)"
            }
            names.insert(assertion.name)
            assertions.append(assertion)
        }
        return failed ? nil : assertions
    }

    private mutating func readAssertion(_ kind: Assertion.Kind, _ fields: Fields) -> Assertion? {
        func required(_ key: String, _ example: String) -> Node? {
            if let node = fields[key] { return node }
            reader.error(
                at: fields.node, "assertion '\(kind.rawValue)' is missing required key '\(key)'",
                hint: "for example {type: \(kind.rawValue), \(key): \(example)}")
            return nil
        }
        var assertion = Assertion(name: kind.rawValue, kind: kind)
        assertion.ignoreCase = reader.bool(fields["ignore_case"], "ignore_case") ?? false
        switch kind {
        case .equals:
            assertion.value = reader.text(fields["value"], "value")
        case .contains, .notContains:
            guard let value = reader.string(required("value", "refund"), "value") else { return nil }
            assertion.value = value
        case .regex:
            guard let node = required("pattern", "'^[A-Z]'"), let pattern = reader.string(node, "pattern") else {
                return nil
            }
            guard (try? Regex(pattern)) != nil else {
                reader.error(at: node, "'pattern' is not a valid regular expression: \(pattern)")
                return nil
            }
            assertion.pattern = pattern
        case .jsonSchemaValid:
            if let node = fields["schema"] {
                guard let schema = builder.readSchema(node, name: "schema", requireObject: false) else { return nil }
                assertion.schema = schema
            } else if builder.task?.outputSchema == nil, !builder.taskDeclared {
                reader.error(
                    at: fields.node, "assertion 'json_schema_valid' has no schema and the task has no output_schema",
                    hint: "add schema: {...} to the assertion or output_schema to the task")
                return nil
            }
        case .jsonPathEquals:
            guard let pathNode = required("path", "$.answer"), let path = reader.string(pathNode, "path"),
                let valueNode = required("value", "yes")
            else { return nil }
            guard JSONPath(parsing: path) != nil else {
                reader.error(
                    at: pathNode, "cannot read JSON path '\(path)'",
                    hint: "write it as $.field.sub or $.list[0].field")
                return nil
            }
            assertion.path = path
            assertion.value = reader.text(valueNode, "value")
        case .similar:
            assertion.value = reader.text(fields["value"], "value")
            assertion.embeddings = required("embeddings", "my-embedding-provider").flatMap { readEmbeddings($0) }
            assertion.threshold = reader.double(fields["threshold"], "threshold", in: -1...1)
            if assertion.embeddings == nil || (fields.has("threshold") && assertion.threshold == nil) { return nil }
        case .maxLatencyMS:
            guard let value = reader.int(required("value", "2000"), "value", in: 1...Int.max) else { return nil }
            assertion.value = String(value)
        case .maxCost:
            guard let value = reader.double(required("value", "0.01"), "value", above: 0) else { return nil }
            assertion.value = String(value)
        case .toolCalled, .toolNotCalled:
            assertion.value = fields["tool"].flatMap { reader.string($0, "tool") }
            if kind == .toolCalled, let node = fields["arguments"] {
                guard case .mapping(let mapping) = node else {
                    reader.error(
                        at: node,
                        "expected a mapping of JSON paths to values for 'arguments', got \(reader.describe(node))",
                        hint: "for example arguments: {$.a: 2}")
                    return nil
                }
                for (key, value) in mapping {
                    guard let path = reader.string(key, "argument path") else { return nil }
                    guard JSONPath(parsing: path) != nil else {
                        reader.error(
                            at: key, "cannot read JSON path '\(path)'", hint: "write it as $.field or $.list[0]")
                        return nil
                    }
                    assertion.arguments[path] = reader.json(value)
                }
            }
        case .maxToolCalls:
            guard let value = reader.int(required("value", "3"), "value", in: 0...Int.max) else { return nil }
            assertion.value = String(value)
        case .finalAnswerMatches:
            guard let node = required("pattern", "'\\d+'"), let pattern = reader.string(node, "pattern") else {
                return nil
            }
            guard (try? Regex(pattern)) != nil else {
                reader.error(at: node, "'pattern' is not a valid regular expression: \(pattern)")
                return nil
            }
            assertion.pattern = pattern
        case .retrievalHit:
            let k = reader.int(fields["k"], "k", in: 1...50) ?? SearchToolSpec.defaultK
            assertion.value = String(k)
            assertion.name = "hit_at_\(k)"
        case .reciprocalRank:
            assertion.name = "mrr"
        }
        if kind != .retrievalHit, let node = fields["k"] {
            reader.error(at: node, "'k' belongs to assertions of type retrieval_hit", hint: "remove it here")
            return nil
        }
        return assertion
    }

    /// `thresholds:` maps a score name to one condition or a list of them.
    private func readThresholds(
        _ node: Node?, hasJudge: Bool, score: ScoreType, rubric: [TaskRequirement], assertions: [Assertion]
    ) -> [Threshold]? {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            reader.error(
                at: node,
                "expected a mapping of score names to conditions for 'thresholds', got \(reader.describe(node))",
                hint: "for example thresholds: {overall: \"mean >= 4.2\"}")
            return nil
        }
        var scoreTypes: [(String, ScoreType)] = hasJudge ? [("overall", score)] : []
        if hasJudge { scoreTypes += rubric.map { ($0.name, $0.type) } }
        scoreTypes += assertions.map { ($0.name, .passFail) }
        var thresholds: [Threshold] = []
        var failed = false
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else { continue }
            // A task that failed to load has unknown requirement names: its own errors are reported already.
            let rubricUnknown = hasJudge && rubric.isEmpty && builder.taskDeclared && builder.task == nil
            if rubricUnknown, name != "overall", !assertions.contains(where: { $0.name == name }) { continue }
            // `row_…`: the pass/fail score of assertions the data's rows carry (`assert`, `assert_<type>`), known
            // only once rows are read; a threshold on one no item has fails with "no scores".
            let rowScore: ScoreType? = name.hasPrefix("row_") ? .passFail : nil
            guard let type = scoreTypes.first(where: { $0.0 == name })?.1 ?? rowScore else {
                let known = scoreTypes.map(\.0)
                reader.error(
                    at: keyNode, "threshold on unknown score '\(name)'",
                    hint: known.isEmpty
                        ? "this stage produces no scores; add a provider or assertions"
                        : NearMiss.hint(for: name, among: known, listing: "scores of this stage"))
                failed = true
                continue
            }
            var conditions: [ThresholdCondition] = []
            for (text, conditionNode) in reader.strings(value, name) ?? [] {
                do {
                    let condition = try ThresholdCondition(parsing: text)
                    guard condition.metric.applies(to: type) else {
                        reader.error(
                            at: conditionNode,
                            "'\(condition.metric)' does not apply to '\(name)', a \(type.rawValue) score",
                            hint: type == .fiveStar
                                ? "use mean, median, min, max or pNN for five_star scores"
                                : "use pass_rate, fail_rate\(type == .passFailCritical ? ", critical" : ""), "
                                    + "mean or min"
                        )
                        failed = true
                        continue
                    }
                    conditions.append(condition)
                } catch {
                    reader.error(at: conditionNode, error.message, hint: error.hint)
                    failed = true
                }
            }
            thresholds.append(Threshold(score: name, conditions: conditions))
        }
        return failed ? nil : thresholds
    }
}
