/// One named part of a split and its share of the items.
package struct SplitPart: Sendable, Hashable {
    package var name: String
    package var fraction: Double

    package init(name: String, fraction: Double) {
        self.name = name
        self.fraction = fraction
    }
}

/// Kiln's split presets (app `DatasetSplitType`).
package enum SplitPreset: String, Sendable, Hashable, CaseIterable {
    case trainTest = "train_test"
    case trainVal = "train_val"
    case trainTestVal = "train_test_val"
    case trainTestVal80 = "train_test_val_80"
    case all

    package var parts: [SplitPart] {
        switch self {
        case .trainTest: [.init(name: "train", fraction: 0.8), .init(name: "test", fraction: 0.2)]
        case .trainVal: [.init(name: "train", fraction: 0.8), .init(name: "val", fraction: 0.2)]
        case .trainTestVal:
            [
                .init(name: "train", fraction: 0.6), .init(name: "test", fraction: 0.2),
                .init(name: "val", fraction: 0.2),
            ]
        case .trainTestVal80:
            [
                .init(name: "train", fraction: 0.8), .init(name: "test", fraction: 0.1),
                .init(name: "val", fraction: 0.1),
            ]
        case .all: [.init(name: "all", fraction: 1.0)]
        }
    }
}

/// A condition on a judge score, e.g. `overall >= 4`.
package struct ScoreCondition: Sendable, Hashable {
    package var score: String
    package var comparison: ComparisonOperator
    package var value: Double

    package init(score: String, comparison: ComparisonOperator, value: Double) {
        self.score = score
        self.comparison = comparison
        self.value = value
    }
}

/// `split`: filter items and assign each to a part by a keyed hash of its identity.
package struct SplitSettings: Sendable, Hashable {
    package var filter: DatasetFilter
    package var conditions: [ScoreCondition]
    package var parts: [SplitPart]
    /// Key of the assignment hash; the same seed always gives the same split.
    package var seed: String
    /// The item field (or JSON path) whose value keeps items together in one part; nil: the input an item came
    /// from (`source_id`: every model's and sample's answer to one input), else the item itself.
    package var groupBy: String?

    package static let defaultSeed = "kiln-pipe"

    package init(
        filter: DatasetFilter = .all, conditions: [ScoreCondition] = [],
        parts: [SplitPart] = SplitPreset.trainTest.parts,
        seed: String = defaultSeed, groupBy: String? = nil
    ) {
        self.filter = filter
        self.conditions = conditions
        self.parts = parts
        self.seed = seed
        self.groupBy = groupBy
    }
}
