import Foundation
import KilnBasics
import KilnProject
import Testing

/// A rerun merges into kiln-pipe's own runs and never changes what a person did in Kiln.
@Suite struct KilnMerging {
    /// A task run as kiln-pipe writes it (output by `adapter`), with optional review fields.
    static func run(
        _ id: String, output: String, adapter: String = "kiln-pipe", tags: [String] = ["kiln_pipe"],
        rating: JSONValue = .null, repaired: JSONValue = .null, createdBy: String = "ci"
    ) -> JSONValue {
        .object(
            JSONObject([
                ("v", .integer(1)), ("id", .string(id)), ("created_at", .string("2026-01-01T00:00:00Z")),
                ("created_by", .string(createdBy)), ("input", .string("in")), ("input_source", .null),
                (
                    "output",
                    .object(
                        JSONObject([
                            ("output", .string(output)),
                            (
                                "source",
                                .object(
                                    JSONObject([
                                        ("type", .string("synthetic")),
                                        ("properties", .object(JSONObject([("adapter_name", .string(adapter))]))),
                                    ]))
                            ),
                            ("rating", rating),
                        ]))
                ),
                ("repair_instructions", repaired == .null ? .null : .string("fix")), ("repaired_output", repaired),
                ("tags", .array(tags.map(JSONValue.string))), ("usage", .null), ("model_type", .string("task_run")),
            ]))
    }

    static let rating = JSONValue.object(JSONObject([("value", .integer(5)), ("type", .string("five_star"))]))

    /// Places a fresh result over `existing` (nil: no run there yet) in a scratch folder.
    static func place(over existing: JSONValue?, output: String) throws -> (KilnMerge.Placement, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-merge-\(UUID().uuidString)")
        let file = { (id: String) in folder.appendingPathComponent("\(id)/task_run.kiln") }
        if let existing {
            try FileManager.default.createDirectory(
                at: file("100000000001").deletingLastPathComponent(), withIntermediateDirectories: true)
            try KilnFileJSON.dumps(existing).write(to: file("100000000001"), atomically: true, encoding: .utf8)
        }
        let placement = KilnMerge.place(id: "100000000001", file: file) { id, _ in
            run(id, output: output, tags: ["kiln_pipe", "batch"], createdBy: "rerun")
        }
        return (placement, folder)
    }

    @Test(arguments: [
        // (what is there, the new output, stays at the same id, a reviewed run kept aside)
        ("nothing", "new", true, false),
        ("kiln-pipe's, unreviewed", "new", true, false),
        ("kiln-pipe's, rated", "old", true, false),
        ("kiln-pipe's, rated", "new", false, true),
        ("kiln-pipe's, repaired", "new", false, true),
        ("a person's", "new", false, true),
    ])
    func whereAResultGoes(existing: String, output: String, sameID: Bool, keptReviewed: Bool) throws {
        let record: JSONValue? =
            switch existing {
            case "kiln-pipe's, unreviewed": Self.run("100000000001", output: "old")
            case "kiln-pipe's, rated": Self.run("100000000001", output: "old", rating: Self.rating)
            case "kiln-pipe's, repaired":
                Self.run("100000000001", output: "old", repaired: .object(JSONObject([("output", .string("fixed"))])))
            case "a person's": Self.run("100000000001", output: "old", adapter: "kiln_langchain")
            default: nil
            }
        let (placement, folder) = try Self.place(over: record, output: output)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect((placement.id == "100000000001") == sameID)
        #expect(placement.keptReviewed == keptReviewed)
        #expect(placement.record["id"]?.stringValue == placement.id)
        // Placing the same result again lands on the same id: reruns are idempotent.
        if !sameID {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(placement.id), withIntermediateDirectories: true)
            try KilnFileJSON.dumps(placement.record).write(
                to: folder.appendingPathComponent("\(placement.id)/task_run.kiln"), atomically: true, encoding: .utf8)
            let again = try Self.place(over: record, output: output).0
            #expect(again.id == placement.id)
        }
    }

    @Test func aMergeKeepsWhatAPersonDidAndTakesKilnPipesOwnFields() throws {
        var existing = Self.run("100000000001", output: "old", tags: ["kiln_pipe", "golden"], rating: Self.rating)
        existing = .object(existing.objectValue!.merging(JSONObject([("later_kiln_field", .string("kept"))])))
        let (placement, folder) = try Self.place(over: existing, output: "old")
        defer { try? FileManager.default.removeItem(at: folder) }
        let record = placement.record
        #expect(record["output"]?["rating"] == Self.rating)
        #expect(record["tags"] == .array(["kiln_pipe", "golden", "batch"].map(JSONValue.string)))
        #expect(record["created_by"] == .string("ci"))
        #expect(record["later_kiln_field"] == .string("kept"))
        // Kiln's key order: the unknown field before model_type, which stays last.
        #expect(record.objectValue?.map(\.key).suffix(2) == ["later_kiln_field", "model_type"])
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject) -> JSONObject {
        var result = JSONObject()
        for (key, value) in self where key != "model_type" { result[key] = value }
        for (key, value) in other { result[key] = value }
        result["model_type"] = self["model_type"]
        return result
    }
}
