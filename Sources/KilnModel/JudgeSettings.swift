package import KilnBasics

/// How a judge turns a model's verdict into a score.
package enum JudgeMethod: String, Sendable, Hashable, CaseIterable {
    /// The judge model states a score.
    case llmAsJudge = "llm_as_judge"
    /// The score is the probability-weighted mean over the score tokens' logprobs.
    case gEval = "g_eval"
}

/// A deterministic check of an output that needs no model.
package struct Assertion: Sendable, Hashable {
    /// The assertion kinds and the key each one takes.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        case equals
        case contains
        case notContains = "not_contains"
        case regex
        case jsonSchemaValid = "json_schema_valid"
        case jsonPathEquals = "json_path_equals"
        case maxLatencyMS = "max_latency_ms"
        case maxCost = "max_cost"
        /// The agent called a tool (`tool:` names it; any tool without), optionally with `arguments:` matching.
        case toolCalled = "tool_called"
        /// The agent did not call the tool (`tool:`), or no tool at all.
        case toolNotCalled = "tool_not_called"
        /// The agent made at most `value` tool calls.
        case maxToolCalls = "max_tool_calls"
        /// The final answer matches the regular expression `pattern`.
        case finalAnswerMatches = "final_answer_matches"
        /// The agent's searches returned the row's `source_chunk` among their first `k` chunks (hit@k; its mean
        /// over the items is the hit rate).
        case retrievalHit = "retrieval_hit"
        /// 1 / the rank of the row's `source_chunk` in the agent's searches, 0 when absent (its mean is the MRR).
        case reciprocalRank = "reciprocal_rank"
        /// The cosine similarity of the output's embedding to the reference's (`value`, else the item's
        /// `expected`) reaches `threshold`; the similarity is kept in the item's `similarity`.
        case similar
    }

    /// The score name this assertion reports under (defaults to its type, numbered when repeated).
    package var name: String
    package var kind: Kind
    /// The expected text or number; for `equals` without a value, the item's `expected` field.
    package var value: String?
    /// `regex` pattern.
    package var pattern: String?
    /// `json_path_equals` path such as `$.answer.label`.
    package var path: String?
    /// `json_schema_valid` schema; the task's output schema when nil.
    package var schema: JSONValue?
    /// Case-insensitive comparison for `equals`, `contains`, `not_contains`.
    package var ignoreCase: Bool
    /// `tool_called`: JSON path in the call's arguments -> the value it must have (`{"$.a": 2}`).
    package var arguments: [String: JSONValue] = [:]
    /// `similar`: the least cosine similarity that passes.
    package var threshold: Double?
    /// `similar`: the provider (and model) that embeds the output and the reference.
    package var embeddings: EmbeddingSettings?

    /// `similar`'s threshold when none is given.
    package static let defaultSimilarity = 0.8

    package init(
        name: String, kind: Kind, value: String? = nil, pattern: String? = nil, path: String? = nil,
        schema: JSONValue? = nil, ignoreCase: Bool = false
    ) {
        self.name = name
        self.kind = kind
        self.value = value
        self.pattern = pattern
        self.path = path
        self.schema = schema
        self.ignoreCase = ignoreCase
    }
}

/// `judge`: LLM judging and assertions over outputs, with thresholds that gate CI.
package struct JudgeSettings: Sendable, Hashable {
    /// The judge model; nil when the stage has assertions only.
    package var provider: String?
    package var method: JudgeMethod
    package var score: ScoreType
    /// Rubric items scored separately; the task's requirements when empty.
    package var rubric: [TaskRequirement]
    package var chainOfThought: Bool
    package var assertions: [Assertion]
    /// Score name (`overall`, a rubric item, an assertion) -> conditions that must all hold.
    package var thresholds: [Threshold]
    /// Share of failed items above which the run exits 3 instead of judging thresholds.
    package var maxErrorRate: Double

    package init(
        provider: String?, method: JudgeMethod = .llmAsJudge, score: ScoreType = .fiveStar,
        rubric: [TaskRequirement] = [], chainOfThought: Bool = true, assertions: [Assertion] = [],
        thresholds: [Threshold] = [], maxErrorRate: Double = 0
    ) {
        self.provider = provider
        self.method = method
        self.score = score
        self.rubric = rubric
        self.chainOfThought = chainOfThought
        self.assertions = assertions
        self.thresholds = thresholds
        self.maxErrorRate = maxErrorRate
    }
}
