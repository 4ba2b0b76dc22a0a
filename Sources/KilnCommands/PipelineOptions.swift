import ArgumentParser

/// Options every command that reads a pipeline file shares.
struct PipelineOptions: ParsableArguments {
    @Option(
        name: .customLong("var"),
        help: ArgumentHelp(
            "Set a pipeline variable (repeatable); wins over the file's vars: and the environment.",
            valueName: "name=value"))
    var variables: [String] = []

    /// `--var` values as a dictionary; the last one wins when a name repeats.
    var variableValues: [String: String] {
        var values: [String: String] = [:]
        for assignment in variables {
            if let (name, value) = Self.split(assignment) { values[name] = value }
        }
        return values
    }

    func validate() throws {
        for assignment in variables where Self.split(assignment) == nil {
            throw ValidationError("--var expects name=value, got '\(assignment)'")
        }
    }

    private static func split(_ assignment: String) -> (String, String)? {
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else { return nil }
        return (String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...]))
    }
}
