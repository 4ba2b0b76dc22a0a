import Testing

@testable import KilnBasics

@Suite struct JSONValueParsing {
    @Test func keepsKeyOrderAndNumberKinds() throws {
        let value = try JSONValue(parsing: #"{"z": 1, "a": [1.5, true, null], "m": {"k": "v"}}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["z"] == .integer(1))
        #expect(value["a"] == .array([.double(1.5), .bool(true), .null]))
        #expect(value.serialized() == #"{"z":1,"a":[1.5,true,null],"m":{"k":"v"}}"#)
        #expect(value.serialized(sortedKeys: true) == #"{"a":[1.5,true,null],"m":{"k":"v"},"z":1}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\n\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\né😀"))
        #expect(value.serialized() == #""a\"b\\c/d\né😀""#)
    }

    @Test func writesControlCharactersInLowercaseHex() {
        #expect(JSONValue.string("\u{1b}x").serialized() == #""\u001bx""#)
    }

    @Test(arguments: [
        (#"{"a": }"#, 1, 7, "unexpected character '}'"),
        ("[1, 2", 1, 6, "unexpected end of JSON, expected ']'"),
        ("{\n  \"a\": tru\n}", 2, 8, "invalid literal, expected 'true'"),
        (#"{"a": 1} x"#, 1, 10, "unexpected text after the JSON value"),
        (#""abc"#, 1, 5, "unterminated string"),
        ("01", 1, 2, "unexpected text after the JSON value"),
        ("-", 1, 2, "invalid number"),
    ])
    func reportsLocatedErrors(text: String, line: Int, column: Int, message: String) {
        #expect(throws: JSONParseError(message: message, line: line, column: column)) {
            try JSONValue(parsing: text)
        }
    }
}

@Suite struct NearMissSuggestions {
    @Test(
        arguments: [
            ("max_concurency", ["max_concurrency", "max_retries", "model"], "max_concurrency"),
            ("modle", ["model", "kind"], "model"),
            ("tpye", ["type", "id", "from"], "type"),
            ("zzzzzz", ["model", "kind"], nil),
        ] as [(String, [String], String?)])
    func suggestsCloseNames(word: String, candidates: [String], expected: String?) {
        #expect(NearMiss.suggestion(for: word, among: candidates) == expected)
    }

    @Test func transpositionCostsOneEdit() {
        #expect(NearMiss.editDistance("ab", "ba") == 1)
        #expect(NearMiss.editDistance("kitten", "sitting") == 3)
    }
}

@Suite struct DiagnosticRendering {
    @Test func printsLocationSeverityMessageAndHint() {
        let diagnostic = Diagnostic(
            .error, at: SourceLocation(file: "p.yml", line: 3, column: 5), "unknown key 'x'", hint: "did you mean 'y'?")
        #expect(diagnostic.description == "p.yml:3:5: error: unknown key 'x' (did you mean 'y'?)")
        let whole = Diagnostic(.warning, at: SourceLocation(file: "p.yml"), "empty")
        #expect(whole.description == "p.yml: warning: empty")
    }
}
