import ArgumentParser
import Dispatch
import Foundation
import KilnBasics
import KilnFakeProvider
import KilnModel
import KilnReports

/// `kiln-pipe view [FILE|DIR]`: a local viewer over the runs of a pipeline (or of every pipeline in a folder).
struct ViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Browse runs, items and comparisons in a local viewer (127.0.0.1 only), or write it as one file.",
        discussion: """
            Serves on 127.0.0.1 (a random port unless --port) and prints the URL: the run list with scores and cost, \
            a run's items with filters (failed, below a threshold, per variant), an item's input, reference, output, \
            reasoning, trace, judge reason and provenance, two runs or two variants side by side, and the progress of \
            a run going on now. It reads the checkpoint store and the run history and writes nothing; the page makes \
            no request beyond the server it came from. --static FILE writes the same viewer as one self-contained \
            HTML file (for a CI artefact), each run compared with the one before it. Ctrl-C stops the server.
            """)

    @Argument(
        help: "A pipeline file, or a folder whose pipelines to show (default: the current folder).",
        completion: .file(extensions: ["yml", "yaml"]))
    var target: String = "."

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @Option(help: "The port (default: a free one).")
    var port: Int = 0

    @Option(help: "The address to serve on: loopback only (127.0.0.1 or localhost).")
    var host = "127.0.0.1"

    @Option(name: .customLong("static"), help: "Write the viewer with its data into this HTML file instead of serving.")
    var staticFile: String?

    @Option(help: "With --static: the most items whose whole record the file embeds (the newest runs' first).")
    var maxItems = 20_000

    func validate() throws {
        guard ["127.0.0.1", "localhost"].contains(host) else {
            throw ValidationError(
                "--host \(host): the viewer serves only on the loopback address 127.0.0.1 (it shows prompts, answers "
                    + "and costs); to share it, write one file with --static and share that")
        }
        if !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if maxItems < 0 { throw ValidationError("--max-items must be 0 or more") }
    }

    func run() async throws {
        try await ViewerAPI(pipelines: try pipelines(), state: stateOptions.state).withStoresOpen { api in
            try await serve(api)
        }
    }

    private func serve(_ api: ViewerAPI) async throws {
        if let staticFile {
            let bundle = try await api.bundle(maxBodies: maxItems)
            let html = ViewerPage.html(embedded: bundle.serialized())
            do {
                try Data(html.utf8).write(to: URL(fileURLWithPath: staticFile), options: .atomic)
            } catch {
                throw ActionableError.io("write", staticFile, hint: "choose a writable path for --static", cause: error)
            }
            let runs = (bundle["runs"]?["pipelines"]?.arrayValue ?? []).reduce(0) {
                $0 + ($1["runs"]?.arrayValue?.count ?? 0)
            }
            let items = bundle["items"]?.objectValue?.count ?? 0
            print("wrote \(staticFile): \(counted(runs, "run")), \(counted(items, "item"))")
            return
        }
        let server = LoopbackHTTPServer { request in Self.answer(request, api: api) }
        do {
            try server.start(port: port)
        } catch {
            throw ActionableError(
                "cannot serve on 127.0.0.1:\(port): \(SystemErrorText.reason(of: error))",
                hint: port == 0 ? "retry" : "choose another --port, or leave it out for a free one")
        }
        print("kiln-pipe view: http://127.0.0.1:\(server.port)/ (Ctrl-C stops it)")
        fflush(nil)  // the URL reaches a pipe (a test, a script) at once
        await Interrupts.waitForSignal()
        server.stop()
    }

    /// The pipelines to show: the file, or every pipeline of the folder that loads.
    private func pipelines() throws -> [Pipeline] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isFolder) else {
            throw ActionableError(
                "\(target): no such file or folder", hint: "give a pipeline file, or a folder that holds pipelines")
        }
        guard isFolder.boolValue else { return [try LoadedPipeline.load(target, options: pipelineOptions)] }
        let names = try FileManager.default.contentsOfDirectory(atPath: target).filter {
            $0.hasSuffix(".yml") || $0.hasSuffix(".yaml")
        }.sorted()
        // A folder's files that are not pipelines (CI workflows, say) are passed over.
        let loaded = names.compactMap { name in
            LoadedPipeline.loadIfValid(
                URL(fileURLWithPath: target).appendingPathComponent(name).path, options: pipelineOptions)
        }
        guard !loaded.isEmpty else {
            throw ActionableError(
                "\(target) holds no pipeline that loads",
                hint: "give a pipeline file (kiln-pipe validate FILE says what is wrong with one)")
        }
        return loaded
    }

    /// One request: the page, or the API's JSON (errors as `{"error": …}`).
    static func answer(_ request: HTTPRequest, api: ViewerAPI) -> HTTPReply {
        guard request.method == "GET" else {
            return .json(405, #"{"error":"the viewer only reads"}"#)
        }
        let components = URLComponents(string: request.path)
        let path = components?.path ?? request.path
        if path == "/" || path == "/index.html" {
            return .response(
                status: 200,
                headers: [
                    ("Content-Type", "text/html; charset=utf-8"),
                    // Nothing but this server: no script, style, image or connection from elsewhere.
                    (
                        "Content-Security-Policy",
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
                    ),
                ], body: Data(ViewerPage.html().utf8))
        }
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let parameters = query
        let result = Blocking.result { try await api.answer(path: path, query: parameters) }
        switch result {
        case .success(let value): return .json(200, value.serialized())
        case .failure(let failure as ViewerAPI.Failure):
            return .json(
                failure.status, JSONValue.object(JSONObject([("error", .string(failure.message))])).serialized())
        case .failure(let error):
            return .json(500, JSONValue.object(JSONObject([("error", .string("\(error)"))])).serialized())
        }
    }
}
