import Foundation
import KilnBasics
import KilnModel
import KilnStages
import Testing

@testable import KilnCommands

/// Progress as a person watching a run reads it: processed of the expected total, the percent, and an ETA from
/// the stage's own pace.
@Suite struct Progress {
    @Test(arguments: [
        (120, 400 as Int?, 42.0 as Double?, "120/400 30% ETA 42s"),
        (5, nil, nil, "5"),
        (500, 400, 9, "500"),  // Past its forecast: the count alone, never "125%".
        (400, 400, 3, "400/400 100%"),
        (10, 100, 3725, "10/100 10% ETA 1h02m"),
        (99, 100, 61.2, "99/100 99% ETA 1m02s"),
    ])
    func readsAsCountsPercentAndETA(_ processed: Int, _ total: Int?, _ eta: Double?, _ text: String) {
        #expect(StageProgress(processed: processed, total: total, etaSeconds: eta).text == text)
    }

    @Test func theETAFollowsTheStagesOwnPaceSinceItStartedMoving() {
        var pace = PaceTracker()
        var report = StageReport(id: "answers", type: .outputs)
        #expect(pace.progress(of: report, total: 100, now: 0).etaSeconds == nil, "not moving yet")
        report.computed = 10
        #expect(pace.progress(of: report, total: 100, now: 1).etaSeconds == nil, "no pace from one sighting")
        report.computed = 30
        let progress = pace.progress(of: report, total: 100, now: 3)
        #expect(progress.etaSeconds == 7, "70 left at 20 per 2 s")
        #expect(progress.percent == 30)
    }

    /// `run --json` progress events carry the forecast total, the percent and the ETA of each stage.
    @Test func jsonProgressEventsCarryTotalsPercentAndETA() throws {
        let scenario = try RunScenario(rows: 40, latencyMS: 100, maxConcurrency: 4)
        defer { scenario.finish() }
        let outcome = try KilnPipeBinary.run(
            ["run", "p.yml", "--json", "--progress-interval", "0.2"], in: scenario.directory,
            environment: ["FAKE_KEY": "k"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let events = try outcome.stdout.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        let answers = events.filter { $0["event"] == .string("progress") && $0["stage"] == .string("answers") }
        #expect(answers.count >= 3, "\(answers.count) progress events in a ~1 s run")
        #expect(answers.allSatisfy { $0["total"] == .integer(40) }, "\(answers.map { $0.serialized() })")
        let moving = answers.filter { ($0["computed"]?.numberValue ?? 0) > 0 && $0["percent"] != .null }
        #expect(!moving.isEmpty)
        #expect(moving.contains { ($0["eta_s"]?.numberValue ?? 0) > 0 }, "\(moving.map { $0.serialized() })")
        #expect(
            moving.allSatisfy {
                $0["percent"]?.numberValue == (100 * ($0["computed"]?.numberValue ?? 0) / 40).rounded(.down)
            })
    }
}
