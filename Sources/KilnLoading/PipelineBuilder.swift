import Foundation
import KilnBasics
import KilnModel
import KilnProject
import Yams

/// Builds a `Pipeline` from the YAML tree, section by section, collecting every diagnostic on the way.
struct PipelineBuilder {
    let reader: NodeReader
    let baseDirectory: String
    let environment: [String: String]
    /// Provider names as declared, even when a provider's body has errors, so references to it don't cascade.
    var declaredProviders: [String: Node] = [:]
    var providerKinds: [String: ProviderKind] = [:]
    var task: TaskDefinition?
    /// The Kiln task the pipeline's task was read from, if it was (for its saved prompts).
    var kilnTask: KilnTaskFolder?
    var taskDeclared = false
    /// Tasks under `tasks:` (offered as tools), by name, once read without errors.
    var subTasks: [String: SubTaskSpec] = [:]
    /// Every name under `tasks:`, even of a task with errors, so references to it do not cascade.
    var declaredSubTasks: Set<String> = []
    /// Tasks under `tasks:` that call themselves.
    var failedSubTasks: Set<String> = []
    /// The index stages each task's search tools search (the stages offering it wait for them).
    var subTaskStageReferences: [String: [(id: String, node: Node, type: StageType)]] = [:]

    static let topLevelKeys = [
        "version", "name", "description", "vars", "providers", "task", "tasks", "max_cost_usd", "stages",
    ]

    init(reader: NodeReader, baseDirectory: String, environment: [String: String]) {
        self.reader = reader
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    mutating func build(_ root: Node) -> Pipeline? {
        guard
            let top = reader.fields(
                root, context: "the pipeline file", allowed: Self.topLevelKeys, required: ["version", "stages"])
        else { return nil }
        // vars come first: every later value may use them.
        reader.interpolator.fileVars = readVars(top["vars"])
        if let version = reader.int(top["version"], "version"), version != PipelineLoader.supportedVersion {
            reader.error(
                at: top["version"], "unsupported pipeline format version \(version)",
                hint: "this kiln-pipe reads 'version: \(PipelineLoader.supportedVersion)'")
        }
        let name = reader.string(top["name"], "name") ?? Self.defaultName(for: reader.file)
        let description = reader.string(top["description"], "description", nonEmpty: false)
        let maxCost = reader.double(top["max_cost_usd"], "max_cost_usd", above: 0)
        let providers = readProviders(top["providers"])
        if let taskNode = top["task"] {
            taskDeclared = true
            task = readTask(taskNode)
        }
        readSubTasks(top["tasks"])
        let stages = readStages(top["stages"])
        warnUnusedSubTasks(stages, tasksNode: top["tasks"])
        StageGraphCheck(reader: reader, stages: stages).run()
        checkReferences(stages)
        KilnNameCheck(reader: reader, root: root, pipelineName: name, task: task, stages: stages).run()
        return Pipeline(
            sourcePath: reader.file, name: name, description: description, vars: reader.interpolator.fileVars,
            providers: providers, task: task, maxCostUSD: maxCost, stages: stages.compactMap(\.spec))
    }

    private func readVars(_ node: Node?) -> [String: String] {
        guard let node, case .mapping(let mapping) = node else {
            if let node {
                reader.error(at: node, "expected a mapping of names to values for 'vars', got \(reader.describe(node))")
            }
            return [:]
        }
        var vars: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string, Interpolator.isValidName(name) else {
                reader.error(
                    at: key, "invalid variable name \(reader.describe(key))",
                    hint: "use letters, digits and '_', not starting with a digit")
                continue
            }
            if SecretPatterns.secretKeyNames.contains(name.lowercased()), let literal = value.string,
                !literal.hasPrefix("${"),
                SecretPatterns.looksLikeSecret(literal) || (literal.count >= 16 && !literal.contains(" "))
            {
                // Refused here as everywhere else: a variable is no place for a key either (a long token-like
                // value under a secret's name; `${ENV_VAR}` references are fine).
                reader.secretKey(key, named: name, in: "vars")
                continue
            }
            if case .scalar = value, !reader.isNull(value), let text = reader.text(value, name) {
                vars[name] = text
            } else if case .scalar = value {
                vars[name] = ""
            } else {
                reader.error(at: value, "expected a text value for variable '\(name)', got \(reader.describe(value))")
            }
        }
        return vars
    }

    /// The file name without folders and extension, used when `name:` is missing.
    static func defaultName(for file: String) -> String {
        let last = file.split(separator: "/").last.map(String.init) ?? file
        return last.split(separator: ".").first.map(String.init) ?? last
    }

    /// An absolute path for a path written in the pipeline (relative to the pipeline file's folder).
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = environment["HOME"] { return home + path.dropFirst(1) }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Whether a path written in the pipeline exists, and whether it is a folder.
    func fileStatus(_ path: String) -> (exists: Bool, isDirectory: Bool) {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: resolve(path), isDirectory: &isDirectory)
        return (exists, isDirectory.boolValue)
    }

    /// A `kiln_project:` path that is read (a project folder or its `project.kiln`): the project, or nil with a
    /// located error.
    @discardableResult
    func kilnProject(_ path: String, at node: Node?) -> KilnProjectFolder? {
        guard requireFile(path, at: node, what: "Kiln project", directoryAllowed: true) else { return nil }
        return openKilnProject(path, at: node)
    }

    /// A `kiln_project:` path that is written may be missing (the first write starts the project), but when there it
    /// must be a project.
    func checkKilnProjectToWrite(_ path: String, at node: Node?) {
        guard FileManager.default.fileExists(atPath: KilnProjectFolder.projectFile(at: resolve(path))) else { return }
        openKilnProject(path, at: node)
    }

    @discardableResult
    private func openKilnProject(_ path: String, at node: Node?) -> KilnProjectFolder? {
        do {
            return try KilnProjectFolder(projectFile: resolve(path), displayPath: path)
        } catch {
            reader.error(at: node, error.message, hint: error.hint)
            return nil
        }
    }

    /// Reports a missing file at the node that named it.
    @discardableResult
    func requireFile(_ path: String, at node: Node?, what: String, directoryAllowed: Bool = false) -> Bool {
        let status = fileStatus(path)
        if !status.exists {
            reader.error(
                at: node, "\(what) '\(path)' does not exist",
                hint: path.hasPrefix("/")
                    ? "check the path" : "relative paths start at the pipeline file's folder, \(baseDirectory)")
            return false
        }
        if status.isDirectory && !directoryAllowed {
            reader.error(at: node, "\(what) '\(path)' is a folder, expected a file")
            return false
        }
        return true
    }
}
