import Foundation
import KilnFakeProvider
import Testing

/// `kiln-pipe-fake-provider` as users start it to try a pipeline's error handling.
@Suite struct FakeProviderCommand {
    static let url = KilnPipeBinary.url.deletingLastPathComponent().appendingPathComponent("kiln-pipe-fake-provider")

    @Test func helpListsTheOptions() throws {
        let outcome = try KilnPipeBinary.run(
            ["--help"], in: FileManager.default.temporaryDirectory, executable: Self.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        for option in ["--port N", "--latency-ms N", "--fault KIND", "--hidden-rps N", "--batch-seconds S"] {
            #expect(outcome.stdout.contains(option), "\(outcome.stdout)")
        }
    }

    /// With `--port 0` the chosen port is printed at once, even when standard output is a pipe (read by `head`);
    /// and SIGTERM (from `timeout`) stops the server even when its parent ignores that signal, as test runners do.
    @Test func aFreePortIsPrintedAtOnceThroughAPipeAndSIGTERMStopsIt() throws {
        let started = Date()
        let outcome = try KilnPipeBinary.run(
            ["-c", "trap '' TERM; timeout -k 8 2 '\(Self.url.path)' --port 0 | head -1"],
            in: FileManager.default.temporaryDirectory, executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(outcome.stdout.hasPrefix("fake provider listening: BASE_URL=http://127.0.0.1:"), "\(outcome.stdout)")
        #expect(!outcome.stdout.contains("127.0.0.1:0/"), "the real port, not 0: \(outcome.stdout)")
        #expect(Date().timeIntervalSince(started) < 6, "SIGTERM after 2 s stopped it (SIGKILL would come at 10 s)")
    }
}

/// The fake as the official OpenAI Python SDK sees it: streamed chunks, logprobs whose tokens keep their spaces
/// and whose alternatives are one distribution, streamed tool calls, and embeddings in base64 (the SDK's default),
/// floats and cut to `dimensions`.
@Suite struct FakeProviderThroughTheOpenAISDK {
    @Test func theSDKGetsWhatOpenAIWouldSend() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let fake = FakeProvider(config: FakeProviderConfig())
        try fake.start()
        defer { fake.stop() }
        let check = try KilnPipeBinary.run(
            [
                KilnPipeBinary.repositoryRoot.appendingPathComponent(
                    "Tests/KilnCommandsTests/Support/openai_sdk_check.py"
                ).path, fake.baseURL,
            ],
            in: FileManager.default.temporaryDirectory, executable: URL(fileURLWithPath: python))
        #expect(check.status == 0, "\(check.stderr)")
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        #expect((findings["stream_chunks"] as? Int ?? 0) > 3)
        #expect(findings["too_many_dimensions"] as? Int == 400)
    }
}
