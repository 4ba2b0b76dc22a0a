import Foundation
package import KilnStore

/// Live per-stage counters of a run, read by whoever renders progress.
package actor RunProgress {
    private var reports: [String: StageReport] = [:]
    private var order: [String] = []
    package private(set) var version = 0
    /// Units each stage is expected to process (the plan's forecast), where known.
    package private(set) var totals: [String: Int] = [:]
    /// The provider batch submissions of this run, by key, as last seen.
    private var batches: [String: BatchRecord] = [:]

    package init(stages: [(String, StageReport)]) {
        for (id, report) in stages {
            reports[id] = report
            order.append(id)
        }
    }

    func update(_ stage: String, _ change: (inout StageReport) -> Void) {
        guard var report = reports[stage] else { return }
        change(&report)
        reports[stage] = report
        version += 1
    }

    package var snapshot: [StageReport] { order.compactMap { reports[$0] } }

    package func setTotals(_ totals: [String: Int]) {
        self.totals = totals
        version += 1
    }

    func batchChanged(_ batch: BatchRecord) {
        batches[batch.key] = batch
        version += 1
    }

    /// The submissions still waiting for their provider, oldest first.
    package var openBatches: [BatchRecord] {
        batches.values.filter { $0.state == .submitting || $0.state == .submitted }.sorted {
            $0.createdAt < $1.createdAt
        }
    }
}
