import KilnBasics
import KilnModel
import Testing

@testable import KilnStages

@Suite struct StableSplits {
    static func items(_ range: Range<Int>) -> [PipelineItem] {
        range.map { PipelineItem(id: "item-\($0)", fields: JSONObject()) }
    }

    @Test func addingTenPercentMoreItemsMovesNoExistingItem() {
        let stage = SplitStage(settings: SplitSettings(parts: SplitPreset.trainTestVal.parts, seed: "v1"))
        let before = Dictionary(uniqueKeysWithValues: Self.items(0..<2000).map { ($0.id, stage.part(of: $0)) })
        let after = Dictionary(uniqueKeysWithValues: Self.items(0..<2200).map { ($0.id, stage.part(of: $0)) })
        #expect(before.allSatisfy { after[$0.key] == $0.value })
    }

    @Test func realisedSizesFollowTheFractions() {
        let stage = SplitStage(settings: SplitSettings(parts: SplitPreset.trainTestVal80.parts, seed: "v1"))
        var counts: [String: Int] = [:]
        for item in Self.items(0..<10_000) { counts[stage.part(of: item), default: 0] += 1 }
        #expect(abs(Double(counts["train"] ?? 0) / 10_000 - 0.8) < 0.02)
        #expect(abs(Double(counts["test"] ?? 0) / 10_000 - 0.1) < 0.02)
        #expect(abs(Double(counts["val"] ?? 0) / 10_000 - 0.1) < 0.02)
    }

    @Test func theSeedIsTheKey() {
        let one = SplitStage(settings: SplitSettings(seed: "one"))
        let other = SplitStage(settings: SplitSettings(seed: "other"))
        let items = Self.items(0..<500)
        #expect(items.map(one.part) == items.map(one.part), "deterministic")
        #expect(items.map(one.part) != items.map(other.part), "another seed gives another split")
    }

    /// Property: over random pipelines (1–4 models, 1–3 samples, 1–300 inputs, any preset and seed), no input
    /// has answers in two parts; with `group_by: topic` no topic does.
    @Test func anInputsAnswersNeverStraddleTwoParts() {
        var random = SplitMix64(seed: 20_261_206)
        for round in 0..<50 {
            let models = Int(random.next() % 4) + 1
            let samples = Int(random.next() % 3) + 1
            let inputs = Int(random.next() % 300) + 1
            let presets = SplitPreset.allCases
            let preset = presets[Int(random.next() % UInt64(presets.count))]
            let byTopic = round % 5 == 0
            let stage = SplitStage(
                settings: SplitSettings(
                    parts: preset.parts, seed: "seed-\(random.next())", groupBy: byTopic ? "topic" : nil))
            var partsOfGroup: [String: Set<String>] = [:]
            for input in 0..<inputs {
                for model in 0..<models {
                    for sample in 0..<samples {
                        let source = "input-\(input)"
                        let item = PipelineItem(
                            id: "\(source)/m\(model)/s\(sample)",
                            fields: JSONObject([
                                ("source_id", .string(source)), ("topic", .string("topic-\(input % 7)")),
                            ]))
                        partsOfGroup[byTopic ? "topic-\(input % 7)" : source, default: []].insert(stage.part(of: item))
                    }
                }
            }
            let straddling = partsOfGroup.filter { $0.value.count > 1 }
            #expect(straddling.isEmpty, "round \(round): \(straddling.count) groups in two parts")
        }
    }

    static func item(_ fields: [(String, JSONValue)]) -> PipelineItem {
        PipelineItem(id: "x", fields: JSONObject(fields))
    }

    @Test(
        arguments: [
            (DatasetFilter.highRating, [("rating", JSONValue.integer(4))], true),
            (.highRating, [("rating", .integer(3))], false),
            (.highRating, [("rating", .integer(1)), ("rating_type", .string("pass_fail"))], true),
            (.highRating, [("repaired", .bool(true))], true),
            (.highRating, [], false),
            (.thinkingModel, [("reasoning", .string("because"))], true),
            (.thinkingModel, [("reasoning", .string(""))], false),
            (.tag("golden"), [("tags", .array([.string("golden")]))], true),
            (
                .allOf([.tag("golden"), .highRating]),
                [("tags", .array([.string("golden")])), ("rating", .integer(2))], false
            ),
        ] as [(DatasetFilter, [(String, JSONValue)], Bool)])
    func kilnFiltersOnItems(filter: DatasetFilter, fields: [(String, JSONValue)], passes: Bool) {
        #expect(SplitStage.passes(Self.item(fields), filter) == passes)
    }

    @Test func whereConditionsReadJudgeScoresAndSayWhy() {
        let stage = SplitStage(
            settings: SplitSettings(conditions: [
                ScoreCondition(score: "overall", comparison: .greaterOrEqual, value: 4)
            ]))
        #expect(stage.exclusion(of: Self.item([("scores", .object(JSONObject([("overall", .double(4.5))])))])) == nil)
        #expect(
            stage.exclusion(of: Self.item([("scores", .object(JSONObject([("overall", .integer(3))])))]))
                == "where: overall >= 4 (it is 3)")
        #expect(stage.exclusion(of: Self.item([])) == "no 'overall' score for where: overall >= 4")
    }
}
