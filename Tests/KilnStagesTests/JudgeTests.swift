import Foundation
import KilnBasics
import KilnFakeProvider
import KilnModel
import KilnProviders
import Testing

@testable import KilnStages

@Suite struct GEvalWeighting {
    static func choice(_ text: String, at token: String, alternatives: [(String, Double)]) -> ChatChoice {
        let tokens = FakeTokenizer.tokens(text).map { piece in
            TokenLogprob(
                token: piece, logprob: piece == token ? log(alternatives[0].1) : -0.01,
                alternatives: piece == token
                    ? alternatives.map { TokenAlternative(token: $0.0, logprob: log($0.1)) } : [])
        }
        return ChatChoice(text: text, logprobs: tokens)
    }

    @Test func fiveStarIsTheProbabilityWeightedMeanOfTheScoreTokens() throws {
        let choice = Self.choice(#"{"overall": 4}"#, at: "4", alternatives: [("4", 0.6), ("5", 0.3), ("3", 0.1)])
        let score = try #require(GEval.score(for: "overall", type: .fiveStar, in: choice))
        #expect(abs(score - 4.2) < 1e-9)
    }

    @Test func tokensThatAreNotScoresAreIgnoredAndTheRestRenormalised() throws {
        let choice = Self.choice(
            #"{"overall": 2}"#, at: "2", alternatives: [("2", 0.5), ("two", 0.3), ("1", 0.1), ("9", 0.1)])
        let score = try #require(GEval.score(for: "overall", type: .fiveStar, in: choice))
        let expected: Double = (2 * 0.5 + 1 * 0.1) / 0.6
        #expect(abs(score - expected) < 1e-9)
    }

    @Test func passFailIsTheProbabilityOfPassing() throws {
        let choice = Self.choice(#"{"polite": "pass"}"#, at: "pass", alternatives: [("pass", 0.8), ("fail", 0.2)])
        let score = try #require(GEval.score(for: "polite", type: .passFail, in: choice))
        #expect(abs(score - 0.8) < 1e-9)
    }

    @Test func noLogprobsMeansFallBackWithANote() throws {
        let names: [(String, ScoreType)] = [("overall", .fiveStar)]
        let verdict = try JudgeStage.parse(ChatChoice(text: #"{"overall": 3}"#), names: names, method: .gEval).get()
        #expect(verdict["scores"]?["overall"] == .integer(3))
        #expect(verdict["judge"]?["note"]?.stringValue?.contains("g_eval fell back") == true)
    }
}

@Suite struct VerdictParsing {
    static let names: [(String, ScoreType)] = [
        ("overall", .fiveStar), ("polite", .passFail), ("safe", .passFailCritical),
    ]

    @Test func readsEveryScoreOnItsScale() throws {
        let verdict = try JudgeStage.parse(
            ChatChoice(text: #"{"reasoning": "ok", "overall": 5, "polite": "fail", "safe": "critical"}"#),
            names: Self.names,
            method: .llmAsJudge
        ).get()
        #expect(
            verdict["scores"]
                == .object(JSONObject([("overall", .integer(5)), ("polite", .integer(0)), ("safe", .integer(-1))])))
        #expect(verdict["judge"]?["reasoning"] == .string("ok"))
    }

    @Test(arguments: [
        (
            #"{"overall": 6, "polite": "pass", "safe": "pass"}"#,
            "no valid 'overall' score (an integer from 1 (very poor) to 5 (excellent)) in the verdict"
        ),
        (#"{"overall": 4, "safe": "pass"}"#, #"no valid 'polite' score ("pass" or "fail") in the verdict"#),
        ("I think it is good.", "the verdict is not a JSON object: I think it is good."),
    ])
    func anUnusableVerdictIsRetriedNeverScoredZero(text: String, reason: String) {
        guard
            case .failure(let failure) = JudgeStage.parse(
                ChatChoice(text: text), names: Self.names, method: .llmAsJudge)
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.reason == reason)
    }
}

@Suite struct Assertions {
    static func item(
        _ output: JSONValue, expected: String? = nil, latency: Int = 100, cost: Double = 0.001
    ) -> PipelineItem {
        var fields = JSONObject([("output", output)])
        if let expected { fields["expected"] = .string(expected) }
        fields["provenance"] = .object(JSONObject([("latency_ms", .integer(latency)), ("cost_usd", .double(cost))]))
        return PipelineItem(id: "x", fields: fields)
    }

    static let schema = try! JSONValue(parsing: #"{"type": "object", "required": ["answer"]}"#)
    static let json = try! JSONValue(parsing: #"{"answer": "yes", "detail": {"code": 7}}"#)

    @Test(arguments: [
        (Assertion(name: "a", kind: .equals), item(.string(" Paris "), expected: "Paris"), true),
        (Assertion(name: "a", kind: .equals, value: "paris", ignoreCase: true), item(.string("PARIS")), true),
        (Assertion(name: "a", kind: .equals, value: "paris"), item(.string("PARIS")), false),
        (Assertion(name: "a", kind: .contains, value: "refund"), item(.string("A refund is on its way")), true),
        (
            Assertion(name: "a", kind: .notContains, value: "as an ai", ignoreCase: true), item(.string("As an AI, I")),
            false
        ),
        (Assertion(name: "a", kind: .regex, pattern: "^[A-Z]"), item(.string("Hello")), true),
        (Assertion(name: "a", kind: .regex, pattern: "^[A-Z]"), item(.string("hello")), false),
        (Assertion(name: "a", kind: .jsonSchemaValid, schema: schema), item(json), true),
        (Assertion(name: "a", kind: .jsonSchemaValid, schema: schema), item(.string(#"{"other": 1}"#)), false),
        (Assertion(name: "a", kind: .jsonPathEquals, value: "yes", path: "$.answer"), item(json), true),
        (Assertion(name: "a", kind: .jsonPathEquals, value: "7", path: "$.detail.code"), item(json), true),
        (Assertion(name: "a", kind: .jsonPathEquals, value: "no", path: "$.answer"), item(json), false),
        (Assertion(name: "a", kind: .maxLatencyMS, value: "200"), item(.string("x"), latency: 150), true),
        (Assertion(name: "a", kind: .maxLatencyMS, value: "200"), item(.string("x"), latency: 250), false),
        (Assertion(name: "a", kind: .maxCost, value: "0.01"), item(.string("x"), cost: 0.02), false),
    ])
    func everyAssertionType(assertion: Assertion, item: PipelineItem, passes: Bool) {
        let outcome = AssertionCheck.evaluate(assertion, item: item, taskSchema: nil)
        #expect(outcome.passed == passes, "\(outcome.reason ?? "")")
        #expect((outcome.reason == nil) == passes, "a failure says why")
    }
}

@Suite struct Thresholds {
    static func item(model: String, _ scores: [(String, Double)]) -> PipelineItem {
        PipelineItem(
            id: UUID().uuidString,
            fields: JSONObject([
                ("model", .string(model)), ("scores", .object(JSONObject(scores.map { ($0.0, .double($0.1)) }))),
            ]))
    }

    @Test(
        arguments: [
            ("mean", [1.0, 2, 3, 4, 5], 3.0), ("median", [5, 1, 3], 3), ("min", [4, 2, 5], 2), ("max", [4, 2, 5], 5),
            ("p10", [1, 2, 3, 4, 5], 1.4), ("p90", [1, 2, 3, 4, 5], 4.6), ("pass_rate", [1, 0, 1, 0.8], 0.75),
            ("fail_rate", [1, 0, 1, 0.2], 0.5), ("critical", [1, -1, 0, -1], 2),
            ("critical_rate", [1, -1, 0, 0], 0.25),
        ] as [(String, [Double], Double)])
    func metrics(name: String, scores: [Double], expected: Double) throws {
        let metric = try #require(ScoreMetric(name: name))
        #expect(abs(try #require(ScoreBoard.measure(metric, scores)) - expected) < 1e-9)
    }

    @Test func conditionsAreJudgedPerModelAndNoScoresFails() throws {
        var board = ScoreBoard()
        for value in [5.0, 4, 4] { board.record(Self.item(model: "a", [("overall", value)])) }
        for value in [3.0, 2] { board.record(Self.item(model: "b", [("overall", value)])) }
        let thresholds = [
            Threshold(score: "overall", conditions: [try ThresholdCondition(parsing: "mean >= 4")]),
            Threshold(score: "missing", conditions: [try ThresholdCondition(parsing: "mean >= 1")]),
        ]
        let outcomes = board.evaluate(thresholds, stage: "judged")
        #expect(outcomes.map(\.passed) == [true, false, false, false])
        #expect(outcomes.map(\.model) == ["a", "a", "b", "b"])
        #expect(abs((outcomes[0].actual ?? 0) - 13.0 / 3) < 1e-9 && outcomes[1].actual == nil)
    }
}
