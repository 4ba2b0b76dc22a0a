import Foundation
import KilnProject
import Testing

/// Kiln's naming rules, table-driven, and (when `make test` installed kiln-ai) checked against Kiln's own functions.
@Suite struct KilnNaming {
    static let names: [(name: String, accepted: String, key: String)] = [
        ("Support reply: v2/beta", "Support reply v2 beta", "support_reply_v2beta"),
        ("Tone of voice", "Tone of voice", "tone_of_voice"),
        ("Is it brief?", "Is it brief", "is_it_brief"),
        ("__private__", "private", "__private__"),
        ("a  b\tc", "a b c", "a__bc"),
        ("x__y", "x_y", "x__y"),
        ("  Overall ", "Overall", "overall"),
        ("品質", "品質", ""),
        ("Ｆｕｌｌ width", "Full width", "_width"),
        ("a.b,c;d=e", "a b c d e", "abcde"),
    ]

    @Test(arguments: names)
    func namesAndKeysAreKilns(name: String, accepted: String, key: String) {
        #expect(KilnNames.accepted(name) == accepted)
        #expect(KilnNames.jsonKey(name) == key)
    }

    @Test func aLongNameIsCutToTheLimitAndStaysValid() {
        let name = "A requirement name that runs well past thirty-two characters"
        let short = KilnNames.accepted(name, limit: KilnNames.shortMaxLength)
        #expect(short.count <= 32)
        #expect(KilnNames.validName(short) == short)
        #expect(short == "A requirement name that runs wel")
        // A cut that ends on a space is made valid again.
        #expect(KilnNames.accepted("abc def", limit: 4) == "abc")
    }

    /// The same names through kiln-ai 1.2.0's `string_to_valid_name` and `string_to_json_key`.
    @Test func kilnItselfAgrees() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let script = """
            import json, sys
            from kiln_ai.datamodel.basemodel import string_to_valid_name
            from kiln_ai.datamodel.json_schema import string_to_json_key
            names = json.loads(sys.stdin.read())
            print(json.dumps([[string_to_valid_name(n), string_to_json_key(n)] for n in names]))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let names = Self.names.map(\.name)
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: names))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let kiln = try #require(try JSONSerialization.jsonObject(with: data) as? [[String]])
        #expect(kiln == names.map { [KilnNames.validName($0), KilnNames.jsonKey($0)] })
    }
}
