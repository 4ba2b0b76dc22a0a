import Foundation
import KilnBasics
import KilnFakeProvider
import KilnProviders
import Testing

/// `kiln-pipe view` without a browser (the browser test, `make test-browser`, clicks through it in Chromium): its
/// JSON API over the run history, loopback only, reading nothing it should not, and the live progress of a run.
@Suite(.serialized) struct Viewer {
    /// A viewer on a free port, its URL read from its first line.
    final class Server {
        let process = Process()
        let url: String
        /// One client for the server's life.
        let transport = CurlTransport(maxConnections: 2)

        init(_ arguments: [String], in directory: URL) throws {
            process.executableURL = KilnPipeBinary.url
            process.arguments = ["view"] + arguments
            process.currentDirectoryURL = directory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += chunk
            }
            let text = String(decoding: line, as: UTF8.self)
            url = try #require(text.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+/).map { String($0.output) }, "\(text)")
        }

        func get(_ path: String) async throws -> HTTPResponse {
            try await transport.send(.get, url: try #require(URL(string: url + path)), headers: [:], timeout: 10)
        }

        func json(_ path: String) async throws -> JSONValue {
            let response = try await get(path)
            #expect(response.status == 200, "\(path): \(String(decoding: response.body, as: UTF8.self))")
            return try JSONValue(parsing: String(decoding: response.body, as: UTF8.self))
        }

        deinit {
            process.terminate()
            process.waitUntilExit()
        }
    }

    @Test func servesTheHistoryAsJSONOnLoopbackOnlyAndWritesNothing() async throws {
        let scenario = try RunHistory.scenario()
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        let refused = try KilnPipeBinary.run(["view", "p.yml", "--host", "0.0.0.0"], in: scenario.directory)
        #expect(refused.status == 2 && refused.stderr.contains("only on the loopback address"), "\(refused.stderr)")

        let state = scenario.directory.appendingPathComponent(".kiln-pipe/state.sqlite")
        let before = try Data(contentsOf: state)
        let server = try Server(["p.yml"], in: scenario.directory)
        let page = try await server.get("/")
        #expect(page.status == 200 && String(decoding: page.body, as: UTF8.self).contains("kiln-pipe view"))
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(page.headers)")

        let list = try await server.json("/api/runs")
        let runs = list["pipelines"]?.arrayValue?.first?["runs"]?.arrayValue ?? []
        #expect(runs.count == 1)
        let id = try #require(runs.first?["id"]?.stringValue)
        let run = try await server.json("/api/run?pipeline=scenario&id=\(id)")
        let items = run["stages"]?.arrayValue?.first?["items"]?.arrayValue ?? []
        #expect(items.count == 20)
        let hash = try #require(items.first?.arrayValue?[2].stringValue)
        let item = try await server.json("/api/item?pipeline=scenario&hash=\(hash)")
        #expect(item["input"]?.stringValue == "Question about the delivery of order 0?", "\(item)")
        let same = try await server.json("/api/compare?pipeline=scenario&a=\(id)&b=\(id)")
        #expect(same["unchanged"]?.numberValue == 20)

        let missing = try await server.get("/api/run?pipeline=scenario&id=nope")
        #expect(missing.status == 404)
        #expect(String(decoding: missing.body, as: UTF8.self).contains(#""error":"no run 'nope' of scenario""#))
        let unknown = try await server.get("/api/run?pipeline=other&id=\(id)")
        #expect(unknown.status == 404)
        let posted = try await server.transport.send(
            .post, url: try #require(URL(string: server.url + "/api/runs")), headers: [:], body: Data("{}".utf8),
            timeout: 10)
        #expect(posted.status == 405)
        #expect(try Data(contentsOf: state) == before, "the viewer wrote into the store")
    }

    @Test func aRunGoingOnShowsItsProgressAndThenItsRecord() async throws {
        let scenario = try RunScenario(
            pipeline: """
                version: 1
                name: scenario
                providers:
                  model: {kind: openai, model: m, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_concurrency: 2}
                task:
                  instruction: Answer.
                stages:
                  - {id: golden, type: load, path: golden.jsonl}
                  - {id: answers, type: outputs, from: golden, models: [model]}
                  - {id: judged, type: judge, from: answers, assertions: [{type: contains, value: "Fake"}]}
                """, latencyMS: 400)
        defer { scenario.finish() }
        // Long enough (about 15 s) that a poll slowed by a busy machine still sees the run going on.
        let rows = (0..<72).map { #"{"input": "Question \#($0)?"}"# }.joined(separator: "\n")
        try rows.write(to: scenario.directory.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        let server = try Server(["p.yml"], in: scenario.directory)
        let run = Process()
        run.executableURL = KilnPipeBinary.url
        run.arguments = ["run", "p.yml"]
        run.currentDirectoryURL = scenario.directory
        run.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "FAKE_KEY": "k"]
        let log = scenario.directory.appendingPathComponent("run.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        run.standardOutput = output
        run.standardError = output
        try run.run()
        // Until the run shows up with its totals (the forecast is worked out beside the run) or ends.
        var seen: JSONValue?
        var polls: [String] = []
        let liveFolder = scenario.directory.appendingPathComponent(".kiln-pipe/live").path
        while run.isRunning, seen?["stages"]?.arrayValue?.dropFirst().first?["total"]?.numberValue == nil {
            try await Task.sleep(for: .milliseconds(200))
            let list = try await server.json("/api/runs")
            let live = list["pipelines"]?.arrayValue?.first?["live"]?.arrayValue?.first
            if let live { seen = live }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: liveFolder)) ?? []
            polls.append("\(files) -> \(list["pipelines"]?.arrayValue?.first?["live"]?.serialized() ?? "?")")
        }
        let runOutput = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let going = try #require(
            seen, "no live progress while the run went on (polls: \(polls.suffix(5))): \(runOutput)")
        #expect(going["stages"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" } == ["golden", "answers", "judged"])
        let answers = going["stages"]?.arrayValue?.dropFirst().first
        #expect((answers?["computed"]?.numberValue ?? 99) < 72, "seen while answers were still being made: \(going)")
        if let total = answers?["total"]?.numberValue { #expect(total == 72, "\(going)") }
        run.waitUntilExit()
        #expect(run.terminationStatus == 0)
        let after = try await server.json("/api/runs")["pipelines"]?.arrayValue?.first
        #expect(after?["live"]?.arrayValue?.isEmpty == true, "the finished run is not live any more")
        #expect(after?["runs"]?.arrayValue?.count == 1, "and it is in the history")
    }

    @Test func theStaticFileCarriesItsDataAndNothingFromElsewhere() throws {
        let scenario = try RunHistory.scenario()
        defer { scenario.finish() }
        #expect(try scenario.run().status == 0)
        #expect(try scenario.run().status == 0)
        let written = try KilnPipeBinary.run(["view", "p.yml", "--static", "viewer.html"], in: scenario.directory)
        #expect(
            written.status == 0 && written.stdout.contains("wrote viewer.html: 2 runs, 20 items"), "\(written.stdout)")
        let html = try String(contentsOf: scenario.directory.appendingPathComponent("viewer.html"), encoding: .utf8)
        #expect(html.contains("window.KILN_DATA = {"))
        #expect(html.firstMatch(of: /(src|href)="https?:/) == nil, "the file loads something from elsewhere")
        #expect(!html.contains("fetch(\"http"))
    }
}
