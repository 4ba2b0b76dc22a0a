package import Foundation
package import KilnBasics
package import KilnModel

/// What one `run` leaves in its pipeline's history: enough to list it, to compare it with another run item by item,
/// and to show it, without computing anything again. Its items are kept apart (`ScoredItem`s per judge stage), and
/// each item's whole record once per content in the store.
package struct RunRecord: Sendable, Hashable {
    /// One stage as the run left it.
    package struct StageLine: Sendable, Hashable {
        package var id: String
        package var type: String
        /// What the stage is and reads (settings, providers, task, input files, upstream stages): equal
        /// fingerprints in two runs mean the stage was asked the same thing.
        package var fingerprint: String
        package var items: Int
        package var cached: Int
        package var computed: Int
        package var failed: Int
        /// The units the stage looked up, as `count:digest` of their store keys (empty for stages without units).
        package var unitKeys = ""

        package init(id: String, type: String, fingerprint: String, items: Int, cached: Int, computed: Int, failed: Int)
        {
            self.id = id
            self.type = type
            self.fingerprint = fingerprint
            self.items = items
            self.cached = cached
            self.computed = computed
            self.failed = failed
        }
    }

    /// `20261206-160224-3fa9c1`: when it started (UTC) and a short hash.
    package var id: String
    package var pipeline: String
    /// The hash of every stage's fingerprint: two runs of the same pipeline on the same data share it.
    package var pipelineHash: String
    /// Seconds since 1970.
    package var startedAt: Double
    package var finishedAt: Double
    /// The commit checked out where the pipeline file sits, when it sits in a git work tree.
    package var gitCommit: String?
    package var exitCode: Int
    /// The exit code in words ("done", "2 threshold conditions failed", "interrupted …").
    package var outcome: String
    /// What the run paid for (calls made in it).
    package var paid: Usage
    /// What its results cost, including those served from the store (paid by earlier runs).
    package var cost: Usage
    package var stages: [StageLine]
    /// Each judge stage's summary (the summary.json it wrote, without items).
    package var judged: [JSONValue]

    package init(
        id: String, pipeline: String, pipelineHash: String, startedAt: Double, finishedAt: Double,
        gitCommit: String?, exitCode: Int, outcome: String, paid: Usage, cost: Usage, stages: [StageLine],
        judged: [JSONValue]
    ) {
        self.id = id
        self.pipeline = pipeline
        self.pipelineHash = pipelineHash
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.gitCommit = gitCommit
        self.exitCode = exitCode
        self.outcome = outcome
        self.paid = paid
        self.cost = cost
        self.stages = stages
        self.judged = judged
    }

    /// A new run's id: its start in UTC to the second, and six hex digits of `seed` (say the pipeline hash, the
    /// start to the nanosecond and the process id), so ids sort by time and two runs never share one.
    package static func makeID(startedAt: Date, seed: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: startedAt) + "-" + SHA256.hex(seed).prefix(6)
    }

    /// The run's verdict in one word: passed (exit 0), failed (1: a threshold), or why it did not finish.
    package var verdict: String {
        switch exitCode {
        case 0: "passed"
        case 1: "failed"
        case 3: "errors"
        case 4: "budget"
        case 130: "interrupted"
        default: "stopped"
        }
    }

    /// Each judge stage's mean per model and score, as its summary says (`[stage: [model: [score: mean]]]`).
    package var means: [(stage: String, model: String, score: String, mean: Double)] {
        judged.flatMap { summary -> [(String, String, String, Double)] in
            let stage = summary["stage"]?.stringValue ?? ""
            return (summary["models"]?.objectValue ?? JSONObject()).flatMap { model, scores in
                (scores.objectValue ?? JSONObject()).compactMap { score, stats in
                    stats["mean"]?.numberValue.map { (stage, model, score, $0) }
                }
            }
        }
    }

    package var json: JSONValue {
        func usage(_ usage: Usage) -> JSONValue {
            .object(
                JSONObject([
                    ("input_tokens", .integer(usage.inputTokens)), ("output_tokens", .integer(usage.outputTokens)),
                    ("cost_usd", .double(usage.costUSD)),
                ]))
        }
        let stages: [JSONValue] = stages.map { line in
            .object(
                JSONObject([
                    ("id", .string(line.id)), ("type", .string(line.type)), ("fingerprint", .string(line.fingerprint)),
                    ("items", .integer(line.items)), ("cached", .integer(line.cached)),
                    ("computed", .integer(line.computed)), ("failed", .integer(line.failed)),
                    ("unit_keys", .string(line.unitKeys)),
                ]))
        }
        return .object(
            JSONObject([
                ("id", .string(id)), ("pipeline", .string(pipeline)), ("pipeline_hash", .string(pipelineHash)),
                ("started_at", .double(startedAt)), ("finished_at", .double(finishedAt)),
                ("git_commit", gitCommit.map(JSONValue.string) ?? .null), ("exit_code", .integer(exitCode)),
                ("verdict", .string(verdict)), ("outcome", .string(outcome)), ("paid", usage(paid)),
                ("cost", usage(cost)), ("stages", .array(stages)), ("judged", .array(judged)),
            ]))
    }

    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let pipeline = json["pipeline"]?.stringValue else { return nil }
        func usage(_ value: JSONValue?) -> Usage {
            Usage(
                inputTokens: value?["input_tokens"]?.numberValue.map { Int($0) } ?? 0,
                outputTokens: value?["output_tokens"]?.numberValue.map { Int($0) } ?? 0,
                costUSD: value?["cost_usd"]?.numberValue ?? 0)
        }
        func int(_ value: JSONValue?) -> Int { value?.numberValue.map { Int($0) } ?? 0 }
        let stages = (json["stages"]?.arrayValue ?? []).map { line in
            var stage = StageLine(
                id: line["id"]?.stringValue ?? "", type: line["type"]?.stringValue ?? "",
                fingerprint: line["fingerprint"]?.stringValue ?? "", items: int(line["items"]),
                cached: int(line["cached"]), computed: int(line["computed"]), failed: int(line["failed"]))
            stage.unitKeys = line["unit_keys"]?.stringValue ?? ""
            return stage
        }
        self.init(
            id: id, pipeline: pipeline, pipelineHash: json["pipeline_hash"]?.stringValue ?? "",
            startedAt: json["started_at"]?.numberValue ?? 0, finishedAt: json["finished_at"]?.numberValue ?? 0,
            gitCommit: json["git_commit"]?.stringValue, exitCode: int(json["exit_code"]),
            outcome: json["outcome"]?.stringValue ?? "", paid: usage(json["paid"]), cost: usage(json["cost"]),
            stages: stages, judged: json["judged"]?.arrayValue ?? [])
    }
}
