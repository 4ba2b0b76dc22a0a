import Foundation
import KilnBasics
import KilnModel
import Testing

@testable import KilnReports

/// The statistics and item classification behind `compare`, `--baseline` and `--fail-on-regression`.
@Suite struct RunComparisons {
    @Test func aPairedIntervalIsExactForAConstantShiftAndNearTheNormalOneOtherwise() throws {
        let before = (0..<50).map { Double($0 % 5) }
        let shifted = try #require(MeanChange(paired: before, before.map { $0 + 0.5 }, seed: 1))
        #expect(abs(shifted.delta - 0.5) < 1e-12 && abs(shifted.low - 0.5) < 1e-12 && abs(shifted.high - 0.5) < 1e-12)
        let same = try #require(MeanChange(paired: before, before, seed: 1))
        #expect(same.delta == 0 && same.low == 0 && same.high == 0 && same.direction == 0)
        // 40 of 200 items fall from pass to fail: the change is -0.2 with a standard error of about 0.028.
        let passes = [Double](repeating: 1, count: 200)
        let after = passes.enumerated().map { $0.offset % 5 == 0 ? 0.0 : 1.0 }
        let fall = try #require(MeanChange(paired: passes, after, seed: 7))
        #expect(abs(fall.delta + 0.2) < 1e-12)
        let standardError = (0.2 * 0.8 / 200).squareRoot()
        #expect(abs(fall.low - (-0.2 - 1.96 * standardError)) < 0.015, "\(fall)")
        #expect(abs(fall.high - (-0.2 + 1.96 * standardError)) < 0.015, "\(fall)")
        #expect(fall.direction == -1 && fall.paired)
        #expect(MeanChange(paired: [], [], seed: 1) == nil)
        #expect(MeanChange(paired: [1], [1, 2], seed: 1) == nil)
    }

    @Test func anIndependentIntervalCoversTheDifferenceOfMeansWithTheNormalWidth() throws {
        var generator = SplitMix64(seed: 42)
        let before = (0..<400).map { _ in Double(generator.next() % 1000) / 1000 }
        let after = (0..<300).map { _ in Double(generator.next() % 1000) / 1000 + 0.1 }
        let change = try #require(MeanChange(independent: before, after, seed: 3))
        func variance(_ values: [Double]) -> Double {
            let mean = values.reduce(0, +) / Double(values.count)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        }
        let standardError = (variance(before) / 400 + variance(after) / 300).squareRoot()
        #expect(change.low < change.delta && change.delta < change.high && !change.paired)
        let width = change.high - change.low
        #expect(abs(width - 2 * 1.96 * standardError) / (2 * 1.96 * standardError) < 0.15, "\(change)")
        let again = try #require(MeanChange(independent: before, after, seed: 3))
        #expect(again == change, "seeded: the same runs give the same interval")
    }

    static func item(_ key: String, _ overall: Double?, group: String = "m") -> ScoredItem {
        ScoredItem(key: key, group: group, scores: overall.map { ["overall": $0] } ?? [:])
    }

    static func side(_ name: String, _ items: [ScoredItem], fingerprint: String = "f") -> RunSide {
        RunSide(
            name: name,
            stages: [
                RunSide.Stage(id: "judged", scoreTypes: ["overall": .fiveStar], scoreOrder: ["overall"], items: items)
            ], fingerprints: ["judged": fingerprint])
    }

    @Test func itemsAreClassifiedWithinTheirModel() {
        let before = Self.side(
            "a", [Self.item("same", 4), Self.item("worse", 5), Self.item("better", 2), Self.item("gone", 3)])
        let after = Self.side(
            "b",
            [
                Self.item("same", 4), Self.item("worse", 3), Self.item("better", 4), Self.item("new", 1),
                Self.item("same", 4, group: "other"),
            ], fingerprint: "g")
        let comparison = RunComparison(before, after)
        let table: [(RunComparison.Change, [String])] = [
            (.regressed, ["worse"]), (.improved, ["better"]), (.appeared, ["new", "same"]), (.disappeared, ["gone"]),
        ]
        for (change, keys) in table {
            #expect(comparison.items(change).map(\.key).sorted() == keys, "\(change)")
        }
        #expect(comparison.unchanged == 1)
        #expect(comparison.changedStages == ["judged"])
        let worse = comparison.items(.regressed)[0]
        #expect(worse.deltas.map(\.score) == ["overall"] && worse.deltas[0].before == 5 && worse.deltas[0].after == 3)
        // Different item sets: the means are compared as independent samples.
        let row = comparison.rows.first { $0.group == "m" }
        #expect(row?.mean.paired == false && row?.countBefore == 4 && row?.countAfter == 4)
        #expect(comparison.rows.contains { $0.group == "other" } == false, "a model only one run has has no change")
    }

    @Test func theGateReadsTolerancesAndFailsOnlyAFallBeyondThem() throws {
        let before = Self.side("a", (0..<10).map { Self.item("q\($0)", 4) })
        let after = Self.side("b", (0..<10).map { Self.item("q\($0)", $0 < 3 ? 2 : 4) })
        let comparison = RunComparison(before, after)
        let table: [(String, Bool)] = [
            ("overall: -0.7", false), ("overall: -0.5", true), ("overall: 0.5", true), ("*: 0", true),
            ("polite: 0", false), (" overall : -1 ; polite: 0", false),
        ]
        for (text, fails) in table {
            let gate = try RegressionGate(parsing: text)
            #expect(gate.failures(in: comparison).isEmpty == !fails, "\(text)")
            #expect(gate.regressedItems(in: comparison).map(\.key) == (fails ? ["q0", "q1", "q2"] : []), "\(text)")
        }
        #expect(throws: ActionableError.self) { try RegressionGate(parsing: "overall") }
        #expect(throws: ActionableError.self) { try RegressionGate(parsing: "overall: much") }
        #expect(throws: ActionableError.self) { try RegressionGate(parsing: " , ") }
        #expect(throws: ActionableError.self) { try RegressionGate(parsing: "polite: 0").checkScores(of: comparison) }
    }

    @Test func duplicateLabelsStayApartAndTheStoredFormRoundTrips() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("scored-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let lines = [
            #"{"source_id": "q1", "model": "m", "input": "a", "output": "x", "scores": {"overall": 4}}"#,
            #"{"source_id": "q1", "model": "m", "input": "b", "output": "y", "scores": {"overall": 2}}"#,
            #"{"source_id": "q1", "model": "n", "input": "a", "output": "z", "scores": {"overall": 3}}"#,
        ]
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let items = try ScoredItem.read(resultsFile: file.path, details: true)
        #expect(items.map(\.key) == ["q1", "q1 (2)", "q1"])
        #expect(items.map(\.body) == lines.map { SHA256.hex($0) })
        #expect(items[1].detail?.output == "y")
        let stored = items.map { ScoredItem(stored: $0.stored) }
        #expect(stored.map { $0?.scores } == items.map(\.scores) && stored.map { $0?.key } == items.map(\.key))
        let summarized = try #require(ScoredItem(summaryJSON: items[0].summaryJSON()))
        #expect(summarized.detail == items[0].detail && summarized.scores == items[0].scores)
    }
}
