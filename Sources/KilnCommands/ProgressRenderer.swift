import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner
import KilnStages
import KilnStore

/// Shows a run's progress: a live line on a terminal, a plain line every few seconds in CI, JSON-lines events
/// for machines, or nothing but the summary.
struct ProgressRenderer: Sendable {
    enum Style: Sendable {
        case text
        case json
        case quiet
    }

    let style: Style
    let interactive = isatty(STDERR_FILENO) != 0
    /// Seconds between progress lines; nil for the default (0.5 s on a terminal, 5 s otherwise).
    var interval: Double?

    /// Runs `body` while rendering `progress` on standard error (JSON events on standard output); the ticker is a
    /// child task, ended with `body`. `totals` (the forecast's units per stage) is computed beside the run, so the
    /// first calls do not wait for it.
    func whileRunning<Result: Sendable>(
        _ progress: RunProgress, totals: @escaping @Sendable () async -> [String: Int] = { [:] },
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        guard style != .quiet else { return try await body() }
        let interval: Duration = .milliseconds(Int((self.interval ?? (interactive ? 0.5 : 5)) * 1000))
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await progress.setTotals(await totals())
                return nil
            }
            group.addTask {
                var lastVersion = -1
                var pace = PaceTracker()
                let started = ContinuousClock.now
                while true {
                    do { try await Task.sleep(for: interval) } catch { return nil }
                    let version = await progress.version
                    guard version != lastVersion else { continue }
                    lastVersion = version
                    let elapsed = ContinuousClock.now - started
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let totals = await progress.totals
                    let reports = await progress.snapshot
                    let stages = reports.map { pace.progress(of: $0, total: totals[$0.id], now: seconds) }
                    render(reports, stages, batches: await progress.openBatches, seconds: seconds)
                }
            }
            let result = try await body()
            group.cancelAll()
            return result
        }
    }

    private func render(
        _ reports: [StageReport], _ stages: [StageProgress], batches: [BatchRecord], seconds: Double
    ) {
        switch style {
        case .json:
            for (report, stage) in zip(reports, stages) {
                var event = Self.event("progress", report).objectValue ?? JSONObject()
                event["total"] = stage.total.map(JSONValue.integer) ?? .null
                event["percent"] = stage.percent.map(JSONValue.integer) ?? .null
                event["eta_s"] = stage.etaSeconds.map { .double(($0 * 10).rounded() / 10) } ?? .null
                print(JSONValue.object(event).serialized())
            }
            for batch in batches {
                var object = JSONObject([("event", .string("batch")), ("provider", .string(batch.provider))])
                object["batch"] = batch.providerBatchID.map(JSONValue.string) ?? .null
                object["status"] = .string(batch.providerStatus ?? batch.state.rawValue)
                object["requests"] = .integer(batch.requests)
                object["answered"] = .integer(batch.completed)
                object["failed"] = .integer(batch.failed)
                print(JSONValue.object(object).serialized())
            }
        case .text:
            let line =
                zip(reports, stages).map { report, stage in
                    var text = "\(report.id) \(stage.text)"
                    if report.failed > 0 { text += " (\(report.failed) failed)" }
                    if report.usage.costUSD > 0 { text += " $\(Self.money(report.usage.costUSD))" }
                    return text
                }.joined(separator: " | ")
                + batches.map {
                    " | batch \($0.providerBatchID ?? "…") \($0.providerStatus ?? $0.state.rawValue) "
                        + "\($0.completed)/\($0.requests)"
                }.joined()
            let rate = seconds > 0 ? " · \(Int(Double(reports.reduce(0) { $0 + $1.computed }) / seconds))/s" : ""
            if interactive {
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(Int(seconds))s] \(line)\(rate)".utf8))
            } else {
                StandardError.write("[\(Int(seconds))s] \(line)\(rate)")
            }
        case .quiet:
            break
        }
    }

    /// The final summary: a table on standard output (or a `run_finished` event), and what to do next.
    func finish(
        _ report: RunReport, pipeline: Pipeline, file: String, interrupted: Bool, aftermath: RunAftermath
    ) {
        let reports = aftermath.reports
        let exit = aftermath.exit
        if style == .text, interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if style == .json {
            for stage in report.stages { print(Self.event("stage_finished", stage).serialized()) }
            // Each threshold's outcome and where the reports are: exit 1 is explained in the stream itself.
            for outcome in report.thresholds {
                let event = JSONObject([
                    ("event", .string("threshold")), ("stage", .string(outcome.stage)),
                    ("model", outcome.model.map(JSONValue.string) ?? .null), ("score", .string(outcome.score)),
                    ("condition", .string(outcome.condition.description)),
                    ("actual", outcome.actual.map(JSONValue.double) ?? .null), ("passed", .bool(outcome.passed)),
                ])
                print(JSONValue.object(event).serialized())
            }
            for written in reports {
                let event = JSONObject([
                    ("event", .string("reports")), ("stage", .string(written.stage)),
                    ("folder", .string(written.folder)), ("files", .array(Self.reportFiles.map(JSONValue.string))),
                ])
                print(JSONValue.object(event).serialized())
            }
            if let comparison = aftermath.comparison {
                var event = JSONObject([("event", .string("comparison"))])
                for (key, value) in ComparisonReport.json(comparison, gate: aftermath.gate).objectValue ?? JSONObject()
                {
                    event[key] = value
                }
                print(JSONValue.object(event).serialized())
            }
            var object = JSONObject([("event", .string("run_finished"))])
            object["run_id"] = aftermath.runID.map(JSONValue.string) ?? .null
            object["failed_items"] = .integer(report.failedItems)
            object["cost_usd"] = .double(report.usage.costUSD)
            object["stopped"] = report.stop.map { .string($0.description) } ?? .null
            object["exit_code"] = .integer(Int(exit.code))
            object["reason"] = .string(exit.reason)
            print(JSONValue.object(object).serialized())
            return
        }
        // Offline, units the store lacks are their own column: they did not fail, they were not computed.
        let missing = report.stages.reduce(0) { $0 + $1.pending }
        var header = ["stage", "type", "items", "cached", "computed", "failed", "requests", "tokens in/out", "cost"]
        if missing > 0 { header.insert("not in store", at: 6) }
        var rows = [header]
        for stage in report.stages {
            var row = [
                stage.id, stage.type.rawValue, String(stage.items), String(stage.cached), String(stage.computed),
                String(stage.failed), String(stage.requests), "\(stage.usage.inputTokens)/\(stage.usage.outputTokens)",
                "$" + Self.money(stage.usage.costUSD),
            ]
            if missing > 0 { row.insert(String(stage.pending), at: 6) }
            rows.append(row)
        }
        Table.print(rows)
        for stage in report.stages where !stage.problems.isEmpty {
            var counts: [String] = []
            if stage.failed > 0 { counts.append("\(stage.failed) failed") }
            if stage.skipped > 0 { counts.append("\(stage.skipped) skipped") }
            if stage.filtered > 0 { counts.append("\(stage.filtered) filtered") }
            print(
                counts.isEmpty ? "\n\(stage.id):" : "\n\(stage.id): \(counts.joined(separator: ", ")); the first ones:")
            for problem in stage.problems { print("  - \(problem)") }
            let unshown = stage.failures.count - stage.shownFailures
            if unshown > 0 {
                print("  … and \(unshown) more: `kiln-pipe status \(file) --json` lists every one with its reason")
            }
        }
        for stage in report.stages where !stage.parts.isEmpty {
            let total = max(1, stage.parts.reduce(0) { $0 + $1.count })
            let sizes = stage.parts.map {
                "\($0.name) \($0.count) (\(String(format: "%.1f", 100 * Double($0.count) / Double(total)))%)"
            }
            print("\n\(stage.id): \(sizes.joined(separator: ", "))")
        }
        // Every judge stage's scores: the mean of each (hit@k and MRR for retrieval) and the pass rate.
        var scores = [["stage", "model", "score", "mean", "pass rate"]]
        for written in reports {
            let summary = written.summary
            for model in summary.models {
                for (name, type) in summary.scoreTypes {
                    guard let stats = summary.stats[model]?[name], stats.count > 0 else { continue }
                    scores.append([
                        written.stage, model.isEmpty ? "-" : model, name, String(format: "%.3f", stats.mean),
                        type == .fiveStar || summary.meanScores.contains(name)
                            ? "-" : String(format: "%.1f%%", 100 * Double(stats.passes) / Double(stats.count)),
                    ])
                }
            }
        }
        if scores.count > 1 {
            print("\nscores:")
            Table.print(scores)
            for written in reports {
                if let best = written.summary.bestLine { print("best in \(written.stage): \(best)") }
            }
        }
        if !report.thresholds.isEmpty {
            print("\nthresholds:")
            var rows = [["", "stage", "model", "score", "condition", "actual"]]
            for outcome in report.thresholds {
                rows.append([
                    outcome.passed ? "✓" : "✗", outcome.stage, outcome.model ?? "-", outcome.score,
                    outcome.condition.description,
                    outcome.actual.map { String(format: "%.3f", $0) } ?? "no scores",
                ])
            }
            Table.print(rows)
        }
        if let outputs = report.stages.last?.outputFile {
            print("\nresults: \(URL(fileURLWithPath: outputs).deletingLastPathComponent().path)/")
        }
        for folder in reports.map(\.folder) {
            print("reports: \(folder)/ (\(Self.reportFiles.joined(separator: ", ")))")
        }
        if let comparison = aftermath.comparison {
            print("")
            CompareCommand.printText(comparison, gate: aftermath.gate)
        }
        if let runID = aftermath.runID { print("run: \(runID) (kiln-pipe runs \(file) lists the history)") }
        let failedThresholds = report.thresholds.filter { !$0.passed }.count
        // A run that stopped says why; thresholds over its partial results are not a verdict.
        if failedThresholds > 0, report.stop == nil {
            StandardError.write("\(failedThresholds) threshold condition\(failedThresholds == 1 ? "" : "s") failed")
        }
        if let regression = aftermath.regression { StandardError.write(regression) }
        // Ctrl-C stops the requests still waiting for a slot too: that is the interruption, not another stop.
        if let stop = report.stop, stop != .interrupted {
            StandardError.write("stopped: \(stop)")
            let first = if case .stageFailed = stop { "fix that, then " } else { "" }
            StandardError.write(
                "finished work is saved in \(report.statePath); \(first)rerun `kiln-pipe run \(file)` to continue")
        } else if interrupted || report.stop == .interrupted {
            StandardError.write(
                "interrupted: rerun `kiln-pipe run \(file)` to resume; nothing finished is paid for again")
        } else {
            let failed = report.failedItems - missing
            let items = { (count: Int) in "\(count) item\(count == 1 ? "" : "s")" }
            if missing > 0 {
                StandardError.write(
                    "\(items(missing)) not in the checkpoint store, and --offline makes no call: run without "
                        + "--offline to compute \(missing == 1 ? "it" : "them")")
            }
            if failed > 0, report.failuresTolerated {
                StandardError.write(
                    "\(items(failed)) failed, within max_error_rate; the thresholds were judged on the rest")
            } else if failed > 0 {
                StandardError.write(
                    "\(items(failed)) failed; rerun to retry only those (`kiln-pipe status \(file)` shows why)")
            }
        }
    }

    /// The files every judge stage's report folder holds.
    static let reportFiles = ["summary.md", "summary.json", "junit.xml", "report.html", "results.jsonl"]

    static func event(_ name: String, _ report: StageReport) -> JSONValue {
        var object = JSONObject([
            ("event", .string(name)), ("stage", .string(report.id)), ("type", .string(report.type.rawValue)),
        ])
        object["items"] = .integer(report.items)
        object["cached"] = .integer(report.cached)
        object["computed"] = .integer(report.computed)
        object["failed"] = .integer(report.failed)
        object["requests"] = .integer(report.requests)
        object["input_tokens"] = .integer(report.usage.inputTokens)
        object["output_tokens"] = .integer(report.usage.outputTokens)
        object["cost_usd"] = .double(report.usage.costUSD)
        return .object(object)
    }

    static func money(_ value: Double) -> String { String(format: "%.4f", value) }
}
