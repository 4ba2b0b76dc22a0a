import Foundation
import KilnBasics

#if canImport(Glibc)
import Glibc
#endif

/// The child process of one target: mutates seeds and feeds them to the target until `until`, the input in hand
/// always on disk (so a crash leaves it behind) and an alarm set for each one (so a hang ends the process).
struct FuzzWorker {
    let target: FuzzTarget
    let repository: URL
    let findings: URL
    let seed: UInt64

    static func currentInput(of name: String, in findings: URL) -> URL {
        findings.appendingPathComponent("current-\(name).bin")
    }

    static func progressFile(of name: String, in findings: URL) -> URL {
        findings.appendingPathComponent("progress-\(name).txt")
    }

    /// Inputs run and the slowest, as the last worker of `name` left them.
    static func progress(of name: String, in findings: URL) -> (inputs: Int, slowestMS: Double) {
        let text = (try? String(contentsOf: progressFile(of: name, in: findings), encoding: .utf8)) ?? ""
        let parts = text.split(separator: " ")
        return (parts.first.flatMap { Int($0) } ?? 0, parts.dropFirst().first.flatMap { Double($0) } ?? 0)
    }

    func run(until: Double) {
        let seeds = target.seeds(repository)
        guard !seeds.isEmpty else { return }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var mutator = Mutator(random: SplitMix64(seed: seed))
        let current = Self.currentInput(of: target.name, in: findings).path
        var inputs = 0
        var slowest = 0.0
        func save() {
            try? "\(inputs) \(slowest)".write(
                to: Self.progressFile(of: target.name, in: findings), atomically: true, encoding: .utf8)
        }
        while Date().timeIntervalSince1970 < until {
            let input = mutator.mutate(seeds[mutator.int(seeds.count)], other: seeds[mutator.int(seeds.count)])
            let descriptor = open(current, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = input.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            let started = Date()
            alarm(Entrypoint.inputSeconds)
            target.run(input, scratch)
            alarm(0)
            slowest = max(slowest, Date().timeIntervalSince(started) * 1000)
            inputs += 1
            if inputs % 100 == 0 { save() }
        }
        save()
    }
}
