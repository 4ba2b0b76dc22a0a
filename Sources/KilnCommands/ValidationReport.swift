import KilnBasics
import KilnLoading
import KilnModel

/// The outcome of validating one file, rendered for people or as JSON for editors.
struct ValidationReport {
    var file: String
    var result: LoadResult

    var isValid: Bool { result.pipeline != nil && !result.diagnostics.containsErrors }

    var text: String {
        var lines = result.diagnostics.map(\.description)
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        let warnings = result.diagnostics.count - errors
        if let pipeline = result.pipeline, errors == 0 {
            var summary = "\(file): valid: \(Self.summary(of: pipeline))"
            if warnings > 0 { summary += ", \(Self.count(warnings, "warning"))" }
            lines.append(summary)
        } else {
            var counts = [Self.count(errors, "error")]
            if warnings > 0 { counts.append(Self.count(warnings, "warning")) }
            lines.append("\(file): invalid: \(counts.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    /// `{"valid": bool, "diagnostics": [{file, line, column, severity, message, hint}]}` over all files.
    static func json(_ reports: [ValidationReport]) -> String {
        let diagnostics: [JSONValue] = reports.flatMap(\.result.diagnostics).map { diagnostic in
            var object = JSONObject()
            object["file"] = .string(diagnostic.location.file)
            object["line"] = .integer(diagnostic.location.line)
            object["column"] = .integer(diagnostic.location.column)
            object["severity"] = .string(diagnostic.severity.rawValue)
            object["message"] = .string(diagnostic.message)
            object["hint"] = diagnostic.hint.map(JSONValue.string) ?? .null
            return .object(object)
        }
        var root = JSONObject()
        root["valid"] = .bool(reports.allSatisfy(\.isValid))
        root["files"] = .array(
            reports.map { report in
                .object(JSONObject([("file", .string(report.file)), ("valid", .bool(report.isValid))]))
            })
        root["diagnostics"] = .array(diagnostics)
        return JSONValue.object(root).serialized()
    }

    /// "2 providers, 4 stages: data (load) -> answers (outputs) -> ..."
    static func summary(of pipeline: Pipeline) -> String {
        let stages = pipeline.stages.map { "\($0.id) (\($0.type.rawValue))" }.joined(separator: ", ")
        var tasks: [String] = []
        for stage in pipeline.stages {
            guard case .outputs(let settings) = stage.settings else { continue }
            for task in settings.tools.allSubTasks.map(\.name) where !tasks.contains(task) { tasks.append(task) }
        }
        let offered =
            tasks.isEmpty ? "" : "; \(count(tasks.count, "task")) offered as tools: \(tasks.joined(separator: ", "))"
        return "\(count(pipeline.providers.count, "provider")), \(count(pipeline.stages.count, "stage")): \(stages)"
            + offered
    }

    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
