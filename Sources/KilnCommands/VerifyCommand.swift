import ArgumentParser
import Foundation
import KilnBasics
import KilnRunner
import KilnStages

/// `kiln-pipe verify FILE`: compares the files a lock lists with what is on disk now.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a rebuild against the lock written by freeze: names every file that differs.",
        discussion: "Exit codes: 0 every file matches, 1 some file differs or is missing, 2 no readable lock."
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Option(help: "Folder holding kiln-pipe.lock.json (default: frozen/<pipeline name> beside the file).")
    var dir: String?

    @OptionGroup var pipelineOptions: PipelineOptions

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let lockPath = FreezeCommand.folder(dir, pipeline: pipeline) + "/kiln-pipe.lock.json"
        let checks = try LockVerifier.verify(
            lockPath: lockPath, baseDirectory: LoadedPipeline.directory(of: pipeline).path)
        var failures = 0
        for check in checks {
            switch check {
            case .same(let path): print("same     \(path)")
            case .differs(let path, let expected, let actual):
                failures += 1
                print("DIFFERS  \(path)  (lock \(expected.prefix(12))…, now \(actual.prefix(12))…)")
            case .missing(let path):
                failures += 1
                print("MISSING  \(path)")
            }
        }
        if failures > 0 {
            StandardError.write("\(failures) of \(checks.count) files do not match \(lockPath)")
            throw ExitCode(KilnExitCode.thresholdFailed)
        }
        print("all \(checks.count) files match \(lockPath)")
    }
}
