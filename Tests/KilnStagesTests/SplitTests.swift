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
