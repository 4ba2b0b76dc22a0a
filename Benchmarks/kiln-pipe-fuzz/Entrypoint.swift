import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `make fuzz`: a mutation fuzzer over the parsers that read user files — the pipeline loader, the JSONL, CSV and
/// JSON readers of `load`, and the HTML, Markdown and DOCX extractors of `ingest`. Each target runs in a child
/// process (`--worker`) that feeds it mutated seeds in process; an input that crashes the child, or runs past 5 s
/// (SIGALRM), is saved under the findings folder, and the child is started again until the time is up.
/// Exit 1 when anything was found: each finding becomes a fixture.
@main
struct Entrypoint {
    static let inputSeconds: UInt32 = 5

    static func main() throws {
        let arguments = CommandLine.arguments
        if arguments.contains("--help") || arguments.contains("-h") {
            print("usage: kiln-pipe-fuzz [--seconds 180] [--seed N] [--repository .] [--findings .build-fuzz]")
            return
        }
        func value(_ flag: String) -> String? {
            arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        let repository = URL(fileURLWithPath: value("--repository") ?? FileManager.default.currentDirectoryPath)
        let findings = URL(fileURLWithPath: value("--findings") ?? ".build-fuzz")
        try FileManager.default.createDirectory(at: findings, withIntermediateDirectories: true)
        if let name = value("--worker"), let target = FuzzTarget.all.first(where: { $0.name == name }) {
            let until = Double(value("--until") ?? "") ?? 0
            let seed = UInt64(value("--seed") ?? "") ?? 1
            return FuzzWorker(target: target, repository: repository, findings: findings, seed: seed).run(until: until)
        }
        let seconds = Double(value("--seconds") ?? "") ?? 180
        let seed = UInt64(value("--seed") ?? "") ?? UInt64(Date().timeIntervalSince1970)
        print("kiln-pipe fuzz: \(FuzzTarget.all.count) targets, \(Int(seconds)) s in all, seed \(seed)")
        print("(an input that crashes or runs past \(inputSeconds) s is saved in \(findings.path))\n")
        var rows = [["target", "seeds", "inputs", "slowest", "crashes", "hangs"]]
        var found = 0
        for target in FuzzTarget.all {
            let share = seconds / Double(FuzzTarget.all.count)
            let result = try campaign(target, seconds: share, seed: seed, repository: repository, findings: findings)
            found += result.crashes + result.hangs
            rows.append([
                target.name, String(target.seeds(repository).count), String(result.inputs),
                String(format: "%.0f ms", result.slowestMS), String(result.crashes), String(result.hangs),
            ])
        }
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        for row in rows {
            print(
                row.enumerated().map { $1.padding(toLength: $0 == 0 ? 10 : 9, withPad: " ", startingAt: 0) }
                    .joined(separator: " "))
        }
        print("\npeak RSS of a worker: \(usage.ru_maxrss / 1024) MB")
        print(found == 0 ? "no crash, no hang" : "\(found) finding(s) in \(findings.path): make each a fixture")
        if found > 0 { exit(1) }
    }

    struct Result {
        var inputs = 0
        var slowestMS = 0.0
        var crashes = 0
        var hangs = 0
    }

    /// Runs `target` for `seconds` in worker processes, starting a new one after each crash or hang.
    static func campaign(
        _ target: FuzzTarget, seconds: Double, seed: UInt64, repository: URL, findings: URL
    ) throws -> Result {
        var result = Result()
        let until = Date().timeIntervalSince1970 + seconds
        var round: UInt64 = 0
        while Date().timeIntervalSince1970 < until {
            let worker = Process()
            worker.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            worker.arguments = [
                "--worker", target.name, "--until", String(until), "--seed", String(seed &+ round),
                "--repository", repository.path, "--findings", findings.path,
            ]
            try worker.run()
            worker.waitUntilExit()
            let progress = FuzzWorker.progress(of: target.name, in: findings)
            result.inputs += progress.inputs
            result.slowestMS = max(result.slowestMS, progress.slowestMS)
            guard worker.terminationReason == .uncaughtSignal else {
                if worker.terminationStatus != 0 { result.crashes += 1 }
                break
            }
            let hang = worker.terminationStatus == SIGALRM
            if hang { result.hangs += 1 } else { result.crashes += 1 }
            let kind = hang ? "hang" : "crash-signal\(worker.terminationStatus)"
            let saved = findings.appendingPathComponent("\(kind)-\(target.name)-\(seed &+ round).bin")
            try? FileManager.default.removeItem(at: saved)
            try FileManager.default.copyItem(at: FuzzWorker.currentInput(of: target.name, in: findings), to: saved)
            print("  \(target.name): \(hang ? "hang" : "crash") saved as \(saved.path)")
            round += 1
        }
        return result
    }
}
