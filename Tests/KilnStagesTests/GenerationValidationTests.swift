import KilnBasics
import KilnModel
import Testing

@testable import KilnStages

@Suite struct SubtopicValidation {
    @Test func keepsDistinctNewTopicsAndIgnoresExtras() throws {
        let result = TopicsStage.subtopics(
            in: #"{"subtopics": ["Late delivery", "Lost parcels", "Customs", "Extra"]}"#, count: 3, existing: [])
        #expect(try result.get() == ["Late delivery", "Lost parcels", "Customs"])
    }

    @Test func neverRepeatsASeedTopicOrItself() {
        let answer = #"{"subtopics": ["refunds", "  Lost parcels ", "lost  PARCELS", "Customs"]}"#
        #expect(
            (try? TopicsStage.subtopics(in: answer, count: 2, existing: ["Refunds"]).get()) == [
                "Lost parcels", "Customs",
            ])
        // Fewer than asked are kept; none new at all is an invalid answer.
        #expect(
            (try? TopicsStage.subtopics(in: answer, count: 3, existing: ["Refunds"]).get()) == [
                "Lost parcels", "Customs",
            ])
        let repeated = #"{"subtopics": ["refunds", "REFUNDS "]}"#
        guard case .failure(let failure) = TopicsStage.subtopics(in: repeated, count: 3, existing: ["Refunds"]) else {
            Issue.record("an answer with no new topic is invalid")
            return
        }
        #expect(failure.reason == "no new subtopic in the answer (repeated: refunds, REFUNDS)")
    }

    @Test func anAnswerWithoutTheListIsInvalid() {
        guard
            case .failure(let failure) = TopicsStage.subtopics(
                in: "Here are some topics: refunds", count: 2, existing: [])
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.reason == "no subtopics list in the answer")
    }
}

@Suite struct GeneratedSampleValidation {
    static let schema = try! JSONValue(
        parsing: #"{"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}"#)

    @Test func acceptsExactlyTheRequestedNumberOfValidSamples() throws {
        let plain = try InputsStage.samples(
            in: #"```json {"generated_samples": ["a", "b", "c"]} ```"#, count: 2, inputSchema: nil
        ).get()
        #expect(plain == [.string("a"), .string("b")])
        let structured = try InputsStage.samples(
            in: #"{"generated_samples": [{"message": "hi"}]}"#, count: 1, inputSchema: Self.schema
        ).get()
        #expect(structured.first?["message"] == .string("hi"))
    }

    @Test(arguments: [
        (#"{"generated_samples": ["a"]}"#, "1 samples instead of 2"),
        (#"{"generated_samples": ["a", "  "]}"#, "sample 2 is empty or not text"),
        (#"{"samples": ["a", "b"]}"#, "no generated_samples list in the answer"),
    ])
    func regeneratesInvalidAnswers(answer: String, reason: String) {
        guard case .failure(let failure) = InputsStage.samples(in: answer, count: 2, inputSchema: nil) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.reason == reason)
    }

    @Test func aSampleThatBreaksTheInputSchemaIsInvalid() {
        guard
            case .failure(let failure) = InputsStage.samples(
                in: #"{"generated_samples": [{"text": "hi"}]}"#, count: 1, inputSchema: Self.schema)
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.reason == "sample 1 does not match the input schema: $: missing required property 'message'")
    }
}

@Suite struct QualityFilters {
    static func item(_ text: String) -> PipelineItem {
        PipelineItem(id: text, fields: JSONObject([("input", .string(text))]))
    }

    @Test func normalizedDedupIgnoresCaseSpacingAndCompatibilityForms() {
        var filter = QualityFilter(settings: KilnModel.QualityFilters(dedup: .normalized), field: "input")
        #expect(filter.rejection(of: Self.item("Where is my ORDER?")) == nil)
        #expect(filter.rejection(of: Self.item("where  is my order")) != nil)
        #expect(filter.rejection(of: Self.item("ﬁnd my order")) == nil)
        #expect(filter.rejection(of: Self.item("find my order")) != nil, "the ﬁ ligature is the same text")
    }

    @Test func exactDedupKeepsNearDuplicates() {
        var filter = QualityFilter(settings: KilnModel.QualityFilters(dedup: .exact), field: "input")
        #expect(filter.rejection(of: Self.item("Hello")) == nil)
        #expect(filter.rejection(of: Self.item("hello")) == nil)
        #expect(filter.rejection(of: Self.item("Hello")) == "duplicate of an earlier input (dedup: exact)")
    }

    @Test func lengthFiltersSayWhy() {
        var filter = QualityFilter(settings: KilnModel.QualityFilters(minChars: 3, maxChars: 5), field: "input")
        #expect(filter.rejection(of: Self.item("ab")) == "shorter than min_chars 3 (2)")
        #expect(filter.rejection(of: Self.item("abcdef")) == "longer than max_chars 5 (6)")
        #expect(filter.rejection(of: Self.item("abcd")) == nil)
    }
}
