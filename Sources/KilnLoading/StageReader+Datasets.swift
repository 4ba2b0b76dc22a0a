import KilnBasics
import KilnModel
import Yams

extension StageReader {
    func readSplit() -> SplitSettings? {
        let filter = datasetFilter(fields["filter"])
        let conditions = readConditions(fields["where"])
        let seed = reader.string(fields["seed"], "seed")
        let preset: SplitPreset? = reader.choice(fields["preset"], "split preset")
        var parts = preset?.parts
        if fields.has("preset"), fields.has("splits") {
            reader.error(
                at: fields.keyNode("splits"), "\(label) has both 'preset' and 'splits'",
                hint: "use a preset such as train_test, or your own splits: {train: 0.9, test: 0.1}")
            return nil
        }
        if let node = fields["splits"] {
            guard let custom = readParts(node) else { return nil }
            parts = custom
        }
        guard fields.has("preset") == (preset != nil), let conditions else { return nil }
        return SplitSettings(
            filter: filter ?? .all, conditions: conditions, parts: parts ?? SplitPreset.trainTest.parts,
            seed: seed ?? SplitSettings.defaultSeed)
    }

    private func readParts(_ node: Node) -> [SplitPart]? {
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            reader.error(
                at: node, "expected a mapping of split names to fractions for 'splits', got \(reader.describe(node))",
                hint: "for example splits: {train: 0.9, test: 0.1}")
            return nil
        }
        var parts: [SplitPart] = []
        for (key, value) in mapping {
            guard let name = key.string, PipelineBuilder.isValidStageID(name) else {
                reader.error(
                    at: key, "invalid split name \(reader.describe(key))", hint: "use letters, digits, '_' and '-'")
                return nil
            }
            guard let fraction = reader.double(value, name, in: 0...1) else { return nil }
            guard fraction > 0 else {
                reader.error(at: value, "split '\(name)' has fraction 0", hint: "remove it or give it a share above 0")
                return nil
            }
            parts.append(SplitPart(name: name, fraction: fraction))
        }
        let total = parts.reduce(0) { $0 + $1.fraction }
        guard abs(total - 1) < 1e-9 else {
            reader.error(
                at: node, "split fractions add up to \(Self.format(total)), expected 1",
                hint: "adjust them so every item lands in exactly one split")
            return nil
        }
        return parts
    }

    /// `where:` conditions on judge scores, e.g. "overall >= 4".
    private func readConditions(_ node: Node?) -> [ScoreCondition]? {
        guard let node else { return [] }
        var conditions: [ScoreCondition] = []
        for (text, conditionNode) in reader.strings(node, "where") ?? [] {
            if let reversed = ComparisonParts.reversedOperator(in: text) {
                reader.error(
                    at: conditionNode, "'\(reversed.written)' is not a comparison operator in '\(text)'",
                    hint: "did you mean '\(reversed.meant)'?")
                return nil
            }
            guard let parts = ComparisonParts(text), let value = Double(parts.right) else {
                reader.error(
                    at: conditionNode, "cannot read condition '\(text)'",
                    hint: "write it as SCORE OP NUMBER, e.g. 'overall >= 4'")
                return nil
            }
            conditions.append(ScoreCondition(score: parts.left, comparison: parts.comparison, value: value))
        }
        return conditions
    }

    func readExport() -> ExportSettings? {
        let format: ExportFormat? = reader.choice(fields["format"], "export format")
        let strategyNode = fields["strategy"]
        let strategy: ChatStrategy? = reader.choice(strategyNode, "strategy")
        let target: ExportTarget? = reader.choice(fields["target"], "export target")
        let out = reader.string(fields["out"], "out")
        let parts = (reader.strings(fields["parts"], "parts") ?? []).map(\.value)
        let kilnProject = reader.string(fields["kiln_project"], "kiln_project")
        if let kilnProject { builder.requireFile(kilnProject, at: fields["kiln_project"], what: "Kiln project file") }
        var valid =
            fields.has("format") == (format != nil) && fields.has("strategy") == (strategy != nil)
            && fields.has("target") == (target != nil)
        if !fields.has("out"), !fields.has("kiln_project") {
            reader.error(
                at: fields.node, "\(label) has no destination",
                hint: "add out: exports/train.jsonl (a folder when the input has several splits) or kiln_project:")
            valid = false
        }
        if strategy == .finalAndIntermediate {
            reader.error(
                at: strategyNode,
                "strategy 'final_and_intermediate' is Kiln's legacy layout and is only read, never written",
                hint: "use two_message_cot, or final_and_intermediate_r1_compatible for R1-style models")
            valid = false
        }
        let structuredTask = builder.task?.outputSchema != nil
        let effectiveFormat = format ?? target?.defaultFormat(structuredTask: structuredTask)
        if let target, let format, !target.acceptedFormats.contains(format) {
            reader.error(
                at: fields["format"], "\(target.rawValue) does not accept format '\(format.rawValue)'",
                hint:
                    "use \(target.acceptedFormats.map(\.rawValue).joined(separator: " or ")), or drop 'format' to use the target's"
            )
            valid = false
        }
        if let target, let strategy, strategy != .finalAndIntermediate, !target.acceptedStrategies.contains(strategy) {
            reader.error(
                at: strategyNode, "\(target.rawValue) fine-tuning does not take strategy '\(strategy.rawValue)'",
                hint:
                    "use \(target.acceptedStrategies.map(\.rawValue).joined(separator: " or ")), as Kiln's \(target.rawValue) flow does"
            )
            valid = false
        } else if strategy == .finalAndIntermediateR1Compatible, let effectiveFormat,
            effectiveFormat.isStructured || effectiveFormat == .vertexGemini
        {
            reader.error(
                at: strategyNode,
                "strategy 'final_and_intermediate_r1_compatible' cannot be used with '\(effectiveFormat.rawValue)'",
                hint: "R1-style <think> text fits only openai_chat_jsonl or huggingface_chat_template_jsonl")
            valid = false
        }
        if effectiveFormat?.isStructured == true, builder.task != nil, !structuredTask {
            reader.error(
                at: fields["format"] ?? fields["target"],
                "format '\(effectiveFormat?.rawValue ?? "")' needs structured output, but the task has no output_schema",
                hint: "use openai_chat_jsonl, or add output_schema to the task")
            valid = false
        }
        guard valid else { return nil }
        return ExportSettings(
            format: format, strategy: strategy ?? .finalOnly, target: target, out: out, parts: parts,
            systemMessage: reader.string(fields["system_message"], "system_message"),
            thinkingInstructions: reader.string(fields["thinking_instructions"], "thinking_instructions"),
            kilnProject: kilnProject)
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 1e9).rounded() / 1e9
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
