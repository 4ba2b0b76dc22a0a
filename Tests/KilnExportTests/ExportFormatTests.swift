import Foundation
import KilnBasics
import KilnModel
import Testing

@testable import KilnExport

/// Every format × strategy against golden files written by Python's own json.dumps, following Kiln's
/// dataset formatter (Snapshots/*.jsonl; examples with non-ASCII, newlines, quotes, tabs, escapes, floats).
@Suite struct KilnExportFormats {
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots")

    static func examples() throws -> (system: String, examples: [TrainingExample]) {
        let document = try JSONValue(parsing: try Data(contentsOf: snapshots.appendingPathComponent("examples.json")))
        let examples = (document["examples"]?.arrayValue ?? []).map { example in
            TrainingExample(
                input: example["input"]?.stringValue ?? "", final: example["final"]?.stringValue ?? "",
                thinking: example["thinking"]?.stringValue)
        }
        return (document["system"]?.stringValue ?? "", examples)
    }

    static let cases: [(ExportFormat, ChatStrategy)] = ExportFormat.allCases.flatMap { format in
        ChatStrategy.exportable.map { (format, $0) }
    }

    @Test(arguments: cases)
    func matchesKilnByteForByte(format: ExportFormat, strategy: ChatStrategy) throws {
        let (system, examples) = try Self.examples()
        let golden = try String(
            contentsOf: Self.snapshots.appendingPathComponent("\(format.rawValue)--\(strategy.rawValue).jsonl"),
            encoding: .utf8)
        let expected = golden.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(expected.count == examples.count)
        let instructions = TrainingChat.thinkingInstructions(strategy: strategy, custom: nil, task: nil)
        for (example, line) in zip(examples, expected) {
            do {
                let actual = try ExportFormatter.line(
                    for: example, format: format, system: system, strategy: strategy, thinkingInstructions: instructions
                )
                #expect(actual == line, "\(format.rawValue) / \(strategy.rawValue)")
            } catch {
                #expect(line.hasPrefix("ERROR "), "unexpected error \(error.message)")
                #expect(error.message.hasPrefix(String(line.dropFirst(6))), "\(error.message)")
            }
        }
    }

    @Test(arguments: [
        (2.5e-05, "2.5e-05"), (1e16, "1e+16"), (3.0, "3.0"), (1000.0, "1000.0"), (0.1, "0.1"), (1e-07, "1e-07"),
        (123456789.125, "123456789.125"), (-0.0, "-0.0"),
    ])
    func floatsAreWrittenAsPythonReprWritesThem(value: Double, expected: String) {
        #expect(PythonJSON.repr(value) == expected)
    }
}
