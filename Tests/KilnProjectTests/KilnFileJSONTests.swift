import KilnBasics
import KilnProject
import Testing

/// `.kiln` files byte for byte as pydantic writes them (expected values printed by pydantic 2 itself).
@Suite struct KilnFileJSONFormat {
    @Test(arguments: [
        (5.0, "5.0"), (0.0000224, "0.0000224"), (1e-7, "1e-7"), (0.8, "0.8"), (0.0001, "0.0001"), (2.5e-05, "0.000025"),
        (1000.0, "1000.0"), (1e16, "1e+16"), (1.5e16, "1.5e+16"), (123456789012345680.0, "1.2345678901234568e+17"),
        (0.1 + 0.2, "0.30000000000000004"), (3.14159, "3.14159"), (1e-5, "0.00001"), (0.00001234, "0.00001234"),
        (12345.678, "12345.678"), (1e22, "1e+22"), (0.0, "0.0"), (-2.5, "-2.5"),
    ])
    func floatsAsPydantic(_ value: Double, _ expected: String) {
        #expect(KilnFileJSON.float(value) == expected)
    }

    @Test func indentedLikeModelDumpJSON() {
        let value = JSONValue.object(
            JSONObject([
                ("v", .integer(1)), ("name", .string("Café / «x»\n\u{1b}")), ("tags", .array([])),
                ("props", .object(JSONObject())),
                ("splits", .array([.object(JSONObject([("name", .string("train")), ("percentage", .double(0.8))]))])),
                ("rating", .null),
            ]))
        #expect(
            KilnFileJSON.dumps(value) == """
                {
                  "v": 1,
                  "name": "Café / «x»\\n\\u001b",
                  "tags": [],
                  "props": {},
                  "splits": [
                    {
                      "name": "train",
                      "percentage": 0.8
                    }
                  ],
                  "rating": null
                }
                """)
    }
}
