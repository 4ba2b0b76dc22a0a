import Foundation
import KilnBasics
import KilnLoading
import KilnModel
import KilnReports
import KilnRunner
import KilnStages
import KilnStore

/// `kiln-pipe-bench history-fixture DIR RUNS ITEMS`: a pipeline in DIR whose run history holds RUNS runs of ITEMS
/// judged items each, recorded through the history's own code (a tenth of the answers change from run to run, as a
/// model or prompt under development would), for the viewer's timings: `kiln-pipe view DIR/history.yml`.
enum HistoryFixture {
    static func write(to folder: URL, runs: Int, items: Int) async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("history.yml")
        try """
        version: 1
        name: history
        providers:
          candidate: {kind: fake}
          judge: {kind: fake}
        task:
          instruction: Answer the customer.
          requirements:
            - {name: polite, instruction: Be polite., type: pass_fail}
        stages:
          - {id: golden, type: load, path: golden.jsonl}
          - {id: answers, type: outputs, from: golden, models: [candidate]}
          - {id: judged, type: judge, from: answers, provider: judge, thresholds: {overall: "mean >= 3"}}
        """.write(to: file, atomically: true, encoding: .utf8)
        try "{\"input\": \"q\"}\n".write(
            to: folder.appendingPathComponent("golden.jsonl"), atomically: true, encoding: .utf8)
        guard let pipeline = PipelineLoader.load(path: file.path).pipeline else {
            throw ActionableError("the fixture pipeline does not load")
        }
        let store = try SQLiteCheckpointStore(path: folder.appendingPathComponent(".kiln-pipe/state.sqlite").path)
        let results = folder.appendingPathComponent("judged.jsonl")
        var generator = SplitMix64(seed: 7)
        let started = Date().addingTimeInterval(-Double(runs) * 86_400)
        for run in 0..<runs {
            var lines: [String] = []
            lines.reserveCapacity(items)
            var overallSum = 0.0
            var polites = 0
            for index in 0..<items {
                // Each answer changes in about one run of ten.
                let version = (index + run / 10 * 7) % 10 == run % 10 ? run : run / 10
                let overall = 1 + Int(generator.next() % 5)
                let polite = Int(generator.next() % 2)
                overallSum += Double(overall)
                polites += polite
                var line = #"{"id":"item-\#(index)","source_id":"q\#(index)","#
                line += #""input":"Question \#(index): where is my order \#(index * 7)?","#
                line += #""expected":"It ships within \#(index % 5 + 1) days.","#
                line += #""output":"Answer \#(index), version \#(version): it ships soon, with tracking.","#
                line += #""model":"candidate","sample":0,"judge":{"method":"llm_as_judge","#
                line += #""reasoning":"Reasoning \#(index).","provider":"judge"},"#
                line += #""scores":{"overall":\#(overall),"polite":\#(polite)}}"#
                lines.append(line)
            }
            try (lines.joined(separator: "\n") + "\n").write(to: results, atomically: true, encoding: .utf8)
            var report = StageReport(id: "judged", type: .judge)
            report.items = items
            report.cached = items
            report.outputFile = results.path
            let mean = overallSum / Double(items)
            let rate = Double(polites) / Double(items)
            let passed = mean >= 3
            var summaryText = #"{"pipeline":"history","stage":"judged","passed":\#(passed),"partial":null,"#
            summaryText += #""items":\#(items),"failed_items":0,"#
            summaryText += #""score_types":{"overall":"five_star","polite":"pass_fail"},"models":{"candidate":{"#
            summaryText += #""overall":{"count":\#(items),"mean":\#(mean),"pass_rate":1.0},"#
            summaryText += #""polite":{"count":\#(items),"mean":\#(rate),"pass_rate":\#(rate)}}},"#
            summaryText += #""thresholds":[{"model":"candidate","score":"overall","condition":"mean >= 3","#
            summaryText += #""actual":\#(mean),"passed":\#(passed)}]}"#
            let summary = try JSONValue(parsing: summaryText)
            _ = try await RunHistory.record(
                RunReport(stages: [report], stop: nil, statePath: ""), pipeline: pipeline,
                judged: [RunHistory.Judged(stage: "judged", summary: summary, resultsFile: results.path)],
                startedAt: started.addingTimeInterval(Double(run) * 86_400), exit: (0, "done"), in: store)
        }
        try? FileManager.default.removeItem(at: results)
    }
}
