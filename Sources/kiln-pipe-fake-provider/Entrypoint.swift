import Foundation
import KilnFakeProvider

/// `kiln-pipe-fake-provider`: the deterministic OpenAI-compatible fake model as a standalone server, so a pipeline
/// can point `base_url` at it. Usage:
///   kiln-pipe-fake-provider [--port N] [--latency-ms N] [--fault KIND[:PERCENT[:ATTEMPTS]]]... [--hidden-rps N]
///   [--window-limit COUNT:SECONDS] [--second-limit N]
///                           [--batch-seconds S] [--batch-expired-percent P]
@main
struct Entrypoint {
    static func main() {
        // A server started by a parent that ignores or blocks SIGTERM (test runners do: both are inherited) must
        // still stop when asked.
        signal(SIGTERM, SIG_DFL)
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &terminate, nil)
        var config = FakeProviderConfig()
        var port = 8089
        var arguments = Array(CommandLine.arguments.dropFirst())
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("kiln-pipe-fake-provider: \(message)\n".utf8))
            exit(2)
        }
        while !arguments.isEmpty {
            let flag = arguments.removeFirst()
            if flag == "--help" || flag == "-h" {
                print(Self.usage)
                exit(0)
            }
            guard let value = arguments.first else { fail("\(flag) needs a value") }
            arguments.removeFirst()
            switch flag {
            case "--port": port = Int(value) ?? { fail("--port expects a number") }()
            case "--latency-ms": config.latencyMS = Int(value) ?? { fail("--latency-ms expects a number") }()
            case "--hidden-rps":
                config.hiddenRequestsPerSecond = Int(value) ?? { fail("--hidden-rps expects a number") }()
            case "--window-limit":
                let parts = value.split(separator: ":")
                guard parts.count == 2, let count = Int(parts[0]), let seconds = Double(parts[1]) else {
                    fail("--window-limit expects COUNT:SECONDS, e.g. 300:60")
                }
                config.windowLimit = (count, seconds)
            case "--second-limit":
                config.perSecondLimit = Int(value) ?? { fail("--second-limit expects a number") }()
            case "--batch-seconds":
                config.batchSeconds = Double(value) ?? { fail("--batch-seconds expects a number") }()
            case "--batch-expired-percent":
                config.batchExpiredPercent =
                    Int(value).flatMap { (0...100).contains($0) ? $0 : nil }
                    ?? { fail("--batch-expired-percent expects 0 to 100") }()
            case "--fault":
                guard let rule = FaultRule(parsing: value) else {
                    fail(
                        "--fault expects KIND[:PERCENT[:ATTEMPTS]] with KIND one of "
                            + "\(FaultKind.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                config.faults.append(rule)
            default: fail("unknown option \(flag) (--help lists them)")
            }
        }
        let provider = FakeProvider(config: config)
        do {
            try provider.start(port: port)
        } catch {
            fail("cannot listen on 127.0.0.1:\(port): \(error)")
        }
        // Flushed at once: with --port 0 a caller reading a pipe learns the chosen port now, not at exit.
        FileHandle.standardOutput.write(Data("fake provider listening: BASE_URL=\(provider.baseURL)\n".utf8))
        while true { sleep(3600) }
    }

    static let usage = """
        kiln-pipe-fake-provider: a deterministic OpenAI-compatible (and Anthropic / Gemini) model server on
        127.0.0.1, for trying a pipeline's error handling without a key or a network.

        Usage: kiln-pipe-fake-provider [options]
          --port N                       listen on 127.0.0.1:N (0: any free port; the chosen one is printed)
          --latency-ms N                 answer after N ms
          --fault KIND[:PERCENT[:ATTEMPTS]]
                                         inject a fault (repeatable); KIND one of \(FaultKind.allCases.map(\.rawValue)
                                         .joined(separator: ", "))
          --hidden-rps N                 answer 429 above N requests a second (a hidden rate limit)
          --window-limit COUNT:SECONDS   answer 429 above COUNT requests in any SECONDS (a sliding window)
          --second-limit N               answer 429 above N requests within each clock second (quantised)
          --batch-seconds S              a batch ends S seconds after it is submitted
          --batch-expired-percent P      P% of batched requests expire unanswered
          --help                         show this help
        """
}
