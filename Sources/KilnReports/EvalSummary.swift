import Foundation
package import KilnBasics
package import KilnModel

/// Everything an eval report shows about one judge stage, gathered by streaming its results file once.
package struct EvalSummary: Sendable {
    /// Aggregates of one score for one model.
    package struct ScoreStats: Sendable, Hashable {
        package var count = 0
        package var sum = 0.0
        package var passes = 0
        package var mean: Double { count == 0 ? 0 : sum / Double(count) }
    }

    /// An item worth a reviewer's look: its lowest score and why.
    package struct Item: Sendable, Hashable {
        /// How the user knows the item: see `label(of:)`.
        package var label: String
        package var model: String
        package var input: String
        package var output: String
        /// The reference answer, when the data has one.
        package var expected: String?
        package var scores: [(name: String, value: Double)] {
            zip(scoreNames, scoreValues).map { ($0, $1) }
        }
        package var scoreNames: [String]
        package var scoreValues: [Double]
        package var reason: String?
        /// The overall score, or the lowest score when there is no judge.
        package var rank: Double
    }

    package var pipeline: String
    package var stage: String
    package var scoreTypes: [(name: String, type: ScoreType)]
    /// Scores whose mean is what they mean (a reciprocal rank: its mean is the MRR), shown as a mean, not a pass rate.
    package var meanScores: Set<String> = []
    package var models: [String] = []
    package var stats: [String: [String: ScoreStats]] = [:]
    package var thresholds: [ThresholdOutcome]
    package var items = 0
    package var failedItems: [String]
    /// What the judged results cost: each output's generation plus its verdict (the same on every rerun).
    package var usage = Usage()
    /// (judge overall, human rating) pairs per model, for items that carry a human `rating`.
    package var ratingPairs: [String: (judge: [Double], human: [Double])] = [:]
    /// Agreement of the judge's overall score with the human ratings, per model.
    package var agreement: [String: Agreement] {
        let type = scoreTypes.first { $0.name == "overall" }?.type ?? .fiveStar
        return ratingPairs.compactMapValues { Agreement(judge: $0.judge, human: $0.human, type: type) }
    }

    /// Histogram counts per model and score: five_star scores in half-star bins from 1 to 5, pass/fail scores as
    /// fail / pass (and critical).
    package var histograms: [String: [String: [Int]]] = [:]

    /// The bin of a score of this type.
    package static func bin(_ value: Double, _ type: ScoreType) -> Int {
        switch type {
        case .fiveStar: return min(8, max(0, Int(((value - 1) * 2).rounded())))
        case .passFail: return value >= 0.5 ? 1 : 0
        case .passFailCritical: return value >= 0.5 ? 2 : value <= -0.5 ? 0 : 1
        }
    }

    package static func binLabels(_ type: ScoreType) -> [String] {
        switch type {
        case .fiveStar: ["1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"]
        case .passFail: ["fail", "pass"]
        case .passFailCritical: ["critical", "fail", "pass"]
        }
    }

    /// With several models or variants: per score, the one with the highest mean (the first of equals) and that
    /// mean. Empty with one.
    package var best: [(score: String, group: String, mean: Double)] {
        guard models.count > 1 else { return [] }
        return scoreTypes.compactMap { name, _ in
            var best: (String, Double)?
            for model in models {
                guard let stats = stats[model]?[name], stats.count > 0 else { continue }
                if best.map({ stats.mean > $0.1 }) ?? true { best = (model, stats.mean) }
            }
            return best.map { (name, $0.0, $0.1) }
        }
    }

    /// `overall: terse/gpt (4.20), polite: long/gpt (0.95)`.
    package var bestLine: String? {
        let best = best
        guard !best.isEmpty else { return nil }
        return best.map { "\($0.score): \($0.group) (\(String(format: "%.3f", $0.mean)))" }.joined(separator: ", ")
    }

    /// The lowest-ranked items, worst first (at most `worstLimit`).
    package var worst: [Item] = []
    package static let worstLimit = 5

    /// Why the run stopped before every item was judged (Ctrl-C, a budget, a quota…), when it did: the results are
    /// then partial, and nothing is reported as passed.
    package var partial: String?

    package var passed: Bool { partial == nil && thresholds.allSatisfy(\.passed) }

    /// Reads a judge stage's JSONL results; memory holds the aggregates and the few worst items, not the file.
    package init(
        pipeline: String, stage: String, resultsFile: String, scoreTypes: [(name: String, type: ScoreType)],
        thresholds: [ThresholdOutcome], failedItems: [String]
    ) throws {
        self.pipeline = pipeline
        self.stage = stage
        self.scoreTypes = scoreTypes
        self.thresholds = thresholds
        self.failedItems = failedItems
        let reader = try LineReader(path: resultsFile)
        while let line = reader.next() {
            guard let item = try? JSONValue(parsing: line) else { continue }
            add(item)
        }
    }

    private mutating func add(_ item: JSONValue) {
        items += 1
        for source in [item["provenance"], item["judge"]] {
            usage += Usage(
                inputTokens: source?["input_tokens"]?.numberValue.map { Int($0) } ?? 0,
                outputTokens: source?["output_tokens"]?.numberValue.map { Int($0) } ?? 0,
                costUSD: source?["cost_usd"]?.numberValue ?? 0)
        }
        let model = ItemGroup.of(item)
        if stats[model] == nil { models.append(model) }
        var names: [String] = []
        var values: [Double] = []
        for (name, value) in item["scores"]?.objectValue ?? JSONObject() {
            guard let number = value.numberValue else { continue }
            // A row's own assertions (`assert` in the data) are pass/fail scores only some items have.
            if !scoreTypes.contains(where: { $0.name == name }) { scoreTypes.append((name, .passFail)) }
            stats[model, default: [:]][name, default: ScoreStats()].count += 1
            stats[model, default: [:]][name, default: ScoreStats()].sum += number
            if number >= 0.5 { stats[model, default: [:]][name, default: ScoreStats()].passes += 1 }
            let type = scoreTypes.first { $0.name == name }?.type ?? .passFail
            var bins = histograms[model, default: [:]][name] ?? [Int](repeating: 0, count: Self.binLabels(type).count)
            bins[Self.bin(number, type)] += 1
            histograms[model, default: [:]][name] = bins
            names.append(name)
            values.append(number)
        }
        if let judged = item["scores"]?["overall"]?.numberValue, let human = item["rating"]?.numberValue {
            ratingPairs[model, default: ([], [])].judge.append(judged)
            ratingPairs[model, default: ([], [])].human.append(human)
        }
        let rank = item["scores"]?["overall"]?.numberValue ?? values.min() ?? 0
        guard worst.count < Self.worstLimit || rank < (worst.last?.rank ?? .infinity) else { return }
        let detail = ScoredItem.Detail(item: item)
        worst.append(
            Item(
                label: Self.label(of: item), model: model, input: detail.input, output: detail.output,
                expected: detail.expected, scoreNames: names, scoreValues: values, reason: detail.reason, rank: rank))
        worst.sort { $0.rank < $1.rank }
        if worst.count > Self.worstLimit { worst.removeLast() }
    }

    /// How a user finds an item in their data: the id their row had, else the file and line it was read from,
    /// else (generated inputs) the item's own id; with the sample number when a model answered several times.
    package static func label(of item: JSONValue) -> String {
        let name =
            item["source_row"]?.stringValue ?? item["source_id"]?.stringValue ?? item["id"]?.stringValue ?? ""
        guard let sample = item["sample"]?.numberValue, sample > 0 else { return name }
        return "\(name) #\(Int(sample) + 1)"
    }

    static func text(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        return value.stringValue ?? value.serialized()
    }
}
