import Foundation

/// Live per-stage counters of a run, read by whoever renders progress.
package actor RunProgress {
    private var reports: [String: StageReport] = [:]
    private var order: [String] = []
    package private(set) var version = 0

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
}
