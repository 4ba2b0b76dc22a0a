import Foundation
import Testing

/// The export stage end to end: files per split part, Kiln's layout, byte-identical rebuilds, overwrite safety.
@Suite(.serialized) struct Exporting {
    static let pipeline = """
        version: 1
        name: scenario
        providers:
          a: {kind: openai, model: m, base_url: "BASE_URL", api_key_env: FAKE_KEY}
        task:
          instruction: Answer the question.
          output_schema: {type: object, properties: {answer: {type: string}}, required: [answer]}
        stages:
          - {id: golden, type: load, path: golden.jsonl}
          - {id: answers, type: outputs, from: golden, models: [a]}
          - {id: split, type: split, from: answers, preset: train_test, seed: s1}
          - {id: together, type: export, from: split, target: together, out: exports/together}
          - {id: vertex, type: export, from: answers, target: vertex, out: exports/vertex.jsonl}
          - {id: fireworks, type: export, from: split, target: fireworks, out: exports/fireworks}
        """

    @Test func writesEachPartInTheTargetsFormatIdenticallyAndNeverClobbersForeignFiles() throws {
        let scenario = try RunScenario(pipeline: Self.pipeline)
        defer { scenario.finish() }
        let rows = (0..<40).map { #"{"input": "Frage \#($0): wo ist «meine» Bestellung?"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let exports = scenario.directory.appendingPathComponent("exports")
        let train = try String(contentsOf: exports.appendingPathComponent("together/train.jsonl"), encoding: .utf8)
        let test = try String(contentsOf: exports.appendingPathComponent("together/test.jsonl"), encoding: .utf8)
        #expect(train.split(separator: "\n").count + test.split(separator: "\n").count == 40)
        #expect(
            train.hasPrefix(
                #"{"messages": [{"role": "system", "content": "Answer the question.\n\nReturn only JSON. Do "#
                    + #"not include any non JSON text.\n"}, {"role": "user", "content": "Frage"#
            ))
        #expect(train.contains("«meine»"), "non-ASCII written raw, as Kiln does")
        // After a finished run, status shows every stage done — the split and the exports too — nothing pending.
        let status = try KilnPipeBinary.run(["status", "p.yml"], in: scenario.directory)
        for stage in ["golden load", "answers outputs", "split split", "together export", "vertex export"] {
            #expect(squeezed(status.stdout).contains("\(stage) done 40 0 0"), "\(stage): \(status.stdout)")
        }
        let vertex = try String(contentsOf: exports.appendingPathComponent("vertex.jsonl"), encoding: .utf8)
        #expect(
            vertex.hasPrefix(
                #"{"systemInstruction": {"role": "system", "parts": [{"text": "Answer the question."}]}, "#
                    + #""contents": [{"role": "user", "parts": [{"text": "Frage"#
            ))
        #expect(vertex.split(separator: "\n").count == 40)
        // Each file passes its service's published format rules.
        for (service, text) in [
            (FineTuneFormatRules.Service.together, train + test), (.vertex, vertex),
            (
                .fireworks,
                try String(contentsOf: exports.appendingPathComponent("fireworks/train.jsonl"), encoding: .utf8)
            ),
        ] {
            #expect(
                FineTuneFormatRules.problems(in: text, for: service).isEmpty,
                "\(service): \(FineTuneFormatRules.problems(in: text, for: service).prefix(3))")
        }
        #expect(
            !FineTuneFormatRules.problems(
                in: #"{"messages": [{"role": "user", "content": "x"}], "tools": []}"#, for: .together
            ).isEmpty, "the rules have teeth")

        let again = try scenario.run()
        #expect(again.status == 0)
        #expect(
            try String(contentsOf: exports.appendingPathComponent("together/train.jsonl"), encoding: .utf8) == train,
            "byte-identical rebuild")

        try (train + "hand edit\n").write(
            to: exports.appendingPathComponent("together/train.jsonl"), atomically: true, encoding: .utf8)
        let refused = try scenario.run()
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("train.jsonl exists and was not written by kiln-pipe (or was edited since)"))
        #expect(refused.stderr.contains("rerun with --force to replace it"))
        let forced = try scenario.run(["--force"])
        #expect(forced.status == 0)
        #expect(
            try String(contentsOf: exports.appendingPathComponent("together/train.jsonl"), encoding: .utf8) == train)
    }

    /// `kiln-pipe export` of a Kiln project whose runs called tools writes what Kiln 1.2.0's formatter writes (the
    /// goldens beside the project were made by Kiln itself; ToolTraceExport checks every combination).
    @Test(arguments: [("vertex_gemini", "final_only"), ("openai_chat_toolcall_jsonl", "final_only")])
    func runsWithToolTracesExportAsKilnWritesThem(format: String, strategy: String) throws {
        let snapshots = KilnPipeBinary.repositoryRoot.appendingPathComponent("Tests/KilnStagesTests/Snapshots/tools")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try KilnPipeBinary.run(
            [
                "export", "--kiln-project", snapshots.appendingPathComponent("project").path, "--task", "275426501746",
                "--split", "tools split", "--part", "train", "--format", format, "--strategy", strategy, "--out",
                "train.jsonl",
            ], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let written = try String(contentsOf: directory.appendingPathComponent("train.jsonl"), encoding: .utf8)
        let kiln = try String(
            contentsOf: snapshots.appendingPathComponent("\(format)--\(strategy)--train.jsonl"), encoding: .utf8)
        #expect(written == kiln)
        #expect(written.contains("tool_call") || written.contains("functionCall"))
    }
}
