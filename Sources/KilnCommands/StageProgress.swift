import Foundation
import KilnStages

/// How far one stage is: units processed of the units the plan expects, the percent, and an ETA from the stage's
/// own pace since it started moving. Totals are the forecast's (configuration and sources), so they are
/// estimates for stages whose counts depend on what earlier stages produce; a stage that passes its forecast shows
/// its count alone.
struct StageProgress: Sendable, Equatable {
    var processed: Int
    var total: Int?
    /// Seconds left at the stage's pace so far; nil until it has one, or when it is done.
    var etaSeconds: Double?

    var percent: Int? {
        guard let total, total > 0, processed <= total else { return nil }
        return Int((100 * Double(processed) / Double(total)).rounded(.down))
    }

    /// Units a stage has processed: served, computed or failed; stages that count only items (load, split) by
    /// those.
    static func processed(_ report: StageReport) -> Int {
        max(report.items, report.cached + report.computed + report.failed)
    }

    /// The text after the stage's name: `120/400 30% ETA 42s`, or `120` without a usable total.
    var text: String {
        guard let total, let percent else { return "\(processed)" }
        var text = "\(processed)/\(total) \(percent)%"
        if let etaSeconds, processed < total { text += " ETA \(Self.duration(etaSeconds))" }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole % 3600 / 60))m"
    }
}

/// Follows each stage's pace across progress ticks, to give its ETA.
struct PaceTracker: Sendable {
    /// When each stage was first seen moving, and its count then.
    private var started: [String: (time: Double, processed: Int)] = [:]

    /// The stage's progress at `now` (seconds), given its forecast total.
    mutating func progress(of report: StageReport, total: Int?, now: Double) -> StageProgress {
        let processed = StageProgress.processed(report)
        var progress = StageProgress(processed: processed, total: total)
        guard processed > 0 else { return progress }
        guard let start = started[report.id] else {
            started[report.id] = (now, processed)
            return progress
        }
        let elapsed = now - start.time
        let done = processed - start.processed
        if let total, processed < total, done > 0, elapsed > 0 {
            progress.etaSeconds = Double(total - processed) * elapsed / Double(done)
        }
        return progress
    }
}
