/// How one threshold condition came out for one group of items (one model, or all items).
package struct ThresholdOutcome: Sendable, Hashable {
    package var stage: String
    /// The model compared, or nil when items carry no model.
    package var model: String?
    package var score: String
    package var condition: ThresholdCondition
    /// The measured value; nil when no item had this score.
    package var actual: Double?
    package var passed: Bool

    package init(
        stage: String, model: String?, score: String, condition: ThresholdCondition, actual: Double?, passed: Bool
    ) {
        self.stage = stage
        self.model = model
        self.score = score
        self.condition = condition
        self.actual = actual
        self.passed = passed
    }
}
