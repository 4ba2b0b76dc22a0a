package import Foundation
package import KilnBasics

/// How what kiln-pipe writes joins the records already in a Kiln project, so a rerun never erases what a person
/// did in Kiln.
///
/// A task run:
/// kiln-pipe owns what it wrote — the input and where it came from, the output and its source, intermediate
/// outputs, usage, the trace, and its tags (added to the run's, never replacing them) — and leaves every other
/// field (ratings and requirement ratings, repairs and repair instructions, tags a person added, fields of later
/// Kiln versions) exactly as it found it. A run a person has reviewed (rated or repaired) is immutable, as in Kiln:
/// a result that would change its output is written as a new run beside it.
package enum KilnMerge {
    /// The fields a rewrite replaces.
    static let owned: Set<String> = ["input", "input_source", "intermediate_outputs", "usage", "trace"]

    /// Where a result goes: the run id to write, its record, and whether a reviewed run was kept aside for it.
    package struct Placement {
        package var id: String
        package var record: JSONValue
        package var keptReviewed: Bool
    }

    /// Places the result `make(id, existing)` builds (given the run already at `id`, read once), starting at `id`:
    /// a new run, a rewrite of kiln-pipe's own unreviewed run, or (when a reviewed run's output would change) a new
    /// run whose id follows from `id` and the output.
    package static func place(
        id: String, file: (String) -> URL, make: (String, JSONValue?) -> JSONValue
    ) -> Placement {
        var id = id
        var keptReviewed = false
        for _ in 0..<4 {
            let existing = read(file(id))
            let fresh = make(id, existing)
            guard let existing else {
                return Placement(id: id, record: fresh, keptReviewed: keptReviewed)
            }
            let output = fresh["output"]?["output"]?.stringValue ?? ""
            let same = existing["output"]?["output"]?.stringValue.map { $0 == output } ?? false
            if !same && (isReviewed(existing) || !isKilnPipes(existing)) {
                keptReviewed = true
                id = KilnProjectRecords.id(for: "run/\(id)/\(SHA256.hex(output))")
                continue
            }
            return Placement(id: id, record: merged(existing, fresh, sameOutput: same), keptReviewed: keptReviewed)
        }
        return Placement(id: id, record: make(id, read(file(id))), keptReviewed: keptReviewed)
    }

    /// Whether a person reviewed the run in Kiln: a rating (with or without requirement ratings) or a repair.
    package static func isReviewed(_ run: JSONValue) -> Bool {
        func present(_ value: JSONValue?) -> Bool { value != nil && value != .null }
        return present(run["output"]?["rating"]) || present(run["repaired_output"])
            || present(run["repair_instructions"])
    }

    /// Whether kiln-pipe generated the run's output (a run of a person or of Kiln is never rewritten).
    static func isKilnPipes(_ run: JSONValue) -> Bool {
        run["output"]?["source"]?["properties"]?["adapter_name"]?.stringValue == KilnProjectRecords.adapterName
    }

    /// `fresh`'s fields in `fresh`'s order: kiln-pipe's own from `fresh`, the rest as `existing` has them (fields
    /// only `existing` has stay, before `model_type`). Tags are the union; the output keeps its rating and stamps
    /// when its text is unchanged.
    static func merged(_ existing: JSONValue, _ fresh: JSONValue, sameOutput: Bool) -> JSONValue {
        guard let old = existing.objectValue, let new = fresh.objectValue else { return fresh }
        var result = JSONObject()
        for (key, value) in new {
            switch key {
            case "model_type":
                for (extraKey, extraValue) in old where new[extraKey] == nil { result[extraKey] = extraValue }
                result[key] = value
            case "tags":
                var tags = old["tags"]?.arrayValue ?? []
                for tag in value.arrayValue ?? [] where !tags.contains(tag) { tags.append(tag) }
                result[key] = .array(tags)
            case "output" where sameOutput:
                var output = old["output"]?.objectValue ?? JSONObject()
                output["source"] = value["source"]
                result[key] = .object(output)
            case _ where owned.contains(key) || key == "output" || key == "id" || key == "v":
                result[key] = value
            default:
                result[key] = old[key] ?? value
            }
        }
        return .object(result)
    }

    /// The run at `file`; nil when there is none. One that cannot be read is an empty record: not kiln-pipe's,
    /// so it is left alone too.
    /// A task kiln-pipe created, with the pipeline's definition: the definition (instruction, requirements,
    /// thinking instruction, schemas) is the pipeline's — its file is the source of the task — and everything else
    /// (description, default run config, fields of later Kiln versions) stays as Kiln has it. A requirement keeps
    /// its id when its name is unchanged, so ratings made against it stay attached.
    package static func mergedTask(_ existing: JSONValue, _ fresh: JSONValue) -> JSONValue {
        guard let old = existing.objectValue, let new = fresh.objectValue else { return fresh }
        let owned: Set<String> = [
            "instruction", "requirements", "thinking_instruction", "output_json_schema", "input_json_schema",
        ]
        var ids: [String: JSONValue] = [:]
        for requirement in old["requirements"]?.arrayValue ?? [] {
            if let name = requirement["name"]?.stringValue, let id = requirement["id"] { ids[name] = id }
        }
        var result = JSONObject()
        for (key, value) in new {
            if key == "model_type" {
                for (extraKey, extraValue) in old where new[extraKey] == nil { result[extraKey] = extraValue }
            }
            if key == "requirements" {
                result[key] = .array(
                    (value.arrayValue ?? []).map { requirement in
                        guard var object = requirement.objectValue, let name = object["name"]?.stringValue,
                            let id = ids[name]
                        else { return requirement }
                        object["id"] = id
                        return .object(object)
                    })
            } else {
                result[key] = owned.contains(key) || key == "model_type" ? value : old[key] ?? value
            }
        }
        return .object(result)
    }

    private static func read(_ file: URL) -> JSONValue? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return (try? KilnProjectFolder.readJSON(file, what: file.lastPathComponent)) ?? .object(JSONObject())
    }
}
