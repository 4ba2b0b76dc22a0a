/// Tokens a call consumed and what they cost.
package struct Usage: Sendable, Hashable {
    package var inputTokens: Int
    package var outputTokens: Int
    package var costUSD: Double

    package init(inputTokens: Int = 0, outputTokens: Int = 0, costUSD: Double = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
    }

    package static func + (lhs: Usage, rhs: Usage) -> Usage {
        Usage(
            inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens,
            costUSD: lhs.costUSD + rhs.costUSD)
    }

    package static func += (lhs: inout Usage, rhs: Usage) { lhs = lhs + rhs }
}
