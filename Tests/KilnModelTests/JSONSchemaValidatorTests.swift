import KilnBasics
import KilnModel
import Testing

@Suite struct JSONSchemaValidation {
    static let schema = try! JSONValue(
        parsing: """
            {"type": "object", "required": ["reply", "tone"], "additionalProperties": false,
             "properties": {"reply": {"type": "string", "minLength": 2}, "tone": {"enum": ["formal", "friendly"]},
                            "score": {"type": "integer", "minimum": 1, "maximum": 5},
                            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}}
            """)

    @Test(arguments: [
        (#"{"reply": "Hi there", "tone": "formal"}"#, [String]()),
        (#"{"reply": "Hi", "tone": "friendly", "score": 5.0, "tags": ["a"]}"#, []),
        (#"{"tone": "formal"}"#, ["$: missing required property 'reply'"]),
        (
            #"{"reply": "H", "tone": "rude"}"#,
            ["$.reply: shorter than 2 characters", #"$.tone: "rude" is not one of ["formal","friendly"]"#]
        ),
        (#"{"reply": "Hi", "tone": "formal", "score": 9}"#, ["$.score: above maximum 5.0"]),
        (
            #"{"reply": "Hi", "tone": "formal", "tags": [1, "b", "c"]}"#,
            ["$.tags: expected at most 2 items, got 3", "$.tags[0]: expected string, got integer"]
        ),
        (#"{"reply": "Hi", "tone": "formal", "extra": true}"#, ["$: unexpected property 'extra'"]),
        (#"["not", "an", "object"]"#, ["$: expected object, got array"]),
    ])
    func reportsWhereAValueBreaksTheSchema(json: String, violations: [String]) throws {
        #expect(JSONSchemaValidator.violations(of: try JSONValue(parsing: json), against: Self.schema) == violations)
    }
}
