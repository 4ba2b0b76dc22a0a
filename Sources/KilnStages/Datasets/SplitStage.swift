import KilnBasics
import KilnModel

/// `split`: keeps the items that pass the filter and the `where:` conditions, and assigns each to a part by a
/// keyed hash of its group (by default the input it answers, so an input's answers never straddle two parts). The
/// same items and seed always give the same split, adding items never moves an existing one, and assignment needs
/// no barrier: items stream through.
struct SplitStage: Sendable {
    let settings: SplitSettings

    /// Why an item was left out, or nil when it is kept.
    func exclusion(of item: PipelineItem) -> String? {
        guard Self.passes(item, settings.filter) else { return "filtered out by '\(settings.filter)'" }
        for condition in settings.conditions {
            guard let value = item.fields["scores"]?[condition.score]?.numberValue else {
                return
                    "no '\(condition.score)' score for where: \(condition.score) "
                    + "\(condition.comparison.rawValue) \(condition.value.compactDescription)"
            }
            if !condition.comparison.holds(value, condition.value) {
                return
                    "where: \(condition.score) \(condition.comparison.rawValue) "
                    + "\(condition.value.compactDescription) (it is \(value.compactDescription))"
            }
        }
        return nil
    }

    /// What keeps items together: the `group_by` field, or by default the input an item answers (`source_id`), so
    /// that no input has answers in two parts (a test set whose inputs the model trained on measures nothing).
    func group(of item: PipelineItem) -> String {
        if let field = settings.groupBy {
            return JSONPath.lookup(field, in: .object(item.fields)).map { $0.stringValue ?? $0.serialized() } ?? item.id
        }
        return item.fields["source_id"]?.stringValue ?? item.id
    }

    /// The part an item belongs to: its group's hash mapped to [0, 1) against the cumulative fractions.
    func part(of item: PipelineItem) -> String {
        let digest = SHA256.hex(settings.seed + "\u{1F}" + group(of: item))
        let position = Double(UInt64(digest.prefix(16), radix: 16) ?? 0) / 18_446_744_073_709_551_616.0
        var cumulative = 0.0
        for part in settings.parts {
            cumulative += part.fraction
            if position < cumulative { return part.name }
        }
        return settings.parts.last?.name ?? "all"
    }

    /// Kiln's dataset filters over pipeline items (human `rating` with `rating_type`, `repaired`, `reasoning`, `tags`).
    static func passes(_ item: PipelineItem, _ filter: DatasetFilter) -> Bool {
        switch filter {
        case .all: return true
        case .highRating: return isHighlyRated(item)
        case .thinkingModel: return !(item.fields["reasoning"]?.stringValue ?? "").isEmpty
        case .thinkingModelHighRated: return passes(item, .thinkingModel) && isHighlyRated(item)
        case .tag(let tag): return item.fields["tags"]?.arrayValue?.contains(.string(tag)) ?? false
        case .allOf(let filters): return filters.allSatisfy { passes(item, $0) }
        }
    }

    /// Repaired counts as high quality; otherwise a five_star rating of 4 or more, or a pass.
    static func isHighlyRated(_ item: PipelineItem) -> Bool {
        if item.fields["repaired"] == .bool(true) { return true }
        guard let rating = item.fields["rating"]?.numberValue else { return false }
        switch item.fields["rating_type"]?.stringValue ?? "five_star" {
        case "pass_fail", "pass_fail_critical": return rating == 1
        default: return rating >= 4
        }
    }
}

extension SplitStage: Stage {
    /// Assigns each item its part (after the exclusions) and passes it on.
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        var sizes: [String: Int] = [:]
        for channel in run.inputs {
            while var item = await channel.receive() {
                if let reason = exclusion(of: item) {
                    report.filtered += 1
                    report.note("\(item.id): \(reason)")
                    continue
                }
                let part = part(of: item)
                item.fields["split"] = .string(part)
                sizes[part, default: 0] += 1
                try await emit(item)
                report.items += 1
            }
        }
        report.parts = settings.parts.map { ($0.name, sizes[$0.name] ?? 0) }
        return nil
    }
}
