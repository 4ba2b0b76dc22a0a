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
            seed: seed ?? SplitSettings.defaultSeed, groupBy: reader.string(fields["group_by"], "group_by"))
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
        if let out, !out.hasPrefix("/"), RelativePath.climbsOut(out) {
            // Written paths stay below the pipeline's folder unless the user wrote an absolute one.
            reader.warning(
                at: fields["out"], "out '\(out)' climbs out of the pipeline's folder",
                hint: "write an absolute path if the files belong there, or a path below the pipeline file")
        }
        let parts = (reader.strings(fields["parts"], "parts") ?? []).map(\.value)
        let kilnProject = reader.string(fields["kiln_project"], "kiln_project")
        if let kilnProject { builder.checkKilnProjectToWrite(kilnProject, at: fields["kiln_project"]) }
        var valid =
            fields.has("format") == (format != nil) && fields.has("strategy") == (strategy != nil)
            && fields.has("target") == (target != nil)
        if !fields.has("out"), !fields.has("kiln_project") {
            reader.error(
                at: fields.node, "\(label) has no destination",
                hint: "add out: exports/train.jsonl (a folder when the input has several splits) or kiln_project:")
            valid = false
        }
        let problems = ExportSettings.problems(
            format: format, strategy: strategy, target: target,
            structuredTask: builder.task.map { $0.outputSchema != nil })
        for problem in problems {
            let node: Node? =
                switch problem.setting {
                case .format: fields["format"]
                case .strategy: strategyNode
                case .target: fields["target"]
                }
            reader.error(at: node ?? fields.node, problem.message, hint: problem.hint)
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
