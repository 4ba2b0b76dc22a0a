import Foundation
import KilnBasics
import KilnLoading
import KilnModel
import Testing

/// Big pipeline files: legitimately big ones load (linear cost; `make bench` times them), hostile ones are refused
/// with a short, located message.
@Suite struct OversizedPipelines {
    static func load(_ text: String) -> LoadResult {
        PipelineLoader.load(data: Data(text.utf8), file: "p.yml", baseDirectory: "/tmp", options: LoadOptions())
    }

    static func enumPipeline(values: Int) -> String {
        let values = (0..<values).map { "          - v\($0)\n" }.joined()
        return """
            version: 1
            task:
              instruction: label it
              output_schema:
                type: object
                properties:
                  label:
                    type: string
                    enum:
            \(values)    required: [label]
            stages:
              - {id: topics, type: topics, provider: m, root: x, depth: 1, breadth: 2}
            providers:
              m: {kind: fake, model: x}

            """
    }

    @Test func aFortyThousandValueEnumLoadsWhole() throws {
        let result = Self.load(Self.enumPipeline(values: 40_000))
        #expect(result.diagnostics.map(\.description) == [])
        let schema = try #require(result.pipeline?.task?.outputSchema)
        let label = schema["properties"]?["label"]?["enum"]
        #expect(label?.arrayValue?.count == 40_000)
    }

    @Test func aFileOverEightMebibytesIsRefusedUnparsed() {
        let result = Self.load("version: 1\n" + String(repeating: "#", count: PipelineLoader.largestFile))
        #expect(
            result.diagnostics.map(\.description) == [
                "p.yml:1:1: error: the pipeline file is larger than 8 MiB, the most a pipeline file may be; refused "
                    + "before parsing it (is this the right file? Rows belong in a dataset read by a 'load' stage, "
                    + "not in the pipeline)"
            ])
    }

    @Test func aFiveMegabyteValueIsQuotedByItsFirstEightyCharacters() {
        let result = Self.load(String(repeating: "x", count: 5_000_000))
        let message = result.diagnostics.map(\.description).joined()
        #expect(
            message == "p.yml:1:1: error: expected a mapping for the pipeline file, got '"
                + String(repeating: "x", count: 80) + "… (5000000 bytes in all)' (write it as 'key: value' lines)")
    }
}
