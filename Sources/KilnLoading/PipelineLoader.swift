package import Foundation
package import KilnBasics
package import KilnModel
import Yams

/// Options that shape how a pipeline file is read.
package struct LoadOptions: Sendable {
    /// `--var NAME=VALUE` pairs; they win over the file's `vars:` and the environment.
    package var variables: [String: String]
    package var environment: [String: String]
    /// `validate` warns about unset variables (CI may set them); `run` refuses them.
    package var unresolvedVariablesAreErrors: Bool

    package init(
        variables: [String: String] = [:], environment: [String: String] = [:],
        unresolvedVariablesAreErrors: Bool = false
    ) {
        self.variables = variables
        self.environment = environment
        self.unresolvedVariablesAreErrors = unresolvedVariablesAreErrors
    }
}

/// What loading a file gave: the pipeline when it has no errors, and every diagnostic found.
package struct LoadResult: Sendable {
    package var pipeline: Pipeline?
    package var diagnostics: [Diagnostic]

    package var isValid: Bool { pipeline != nil && !diagnostics.containsErrors }
}

/// Reads pipeline files: YAML syntax, the v1 schema, interpolation, secrets, the stage graph and referenced files.
package enum PipelineLoader {
    package static let supportedVersion = 1

    /// Loads the file at `path` (as the user wrote it; diagnostics name it that way).
    package static func load(path: String, options: LoadOptions = LoadOptions()) -> LoadResult {
        let data: Data
        do {
            // Read no more than the cap (a pipe from `<(...)` is read too; a 50 GB file is not read whole).
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: largestFile + 1) ?? Data()
        } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "permission denied"
            return LoadResult(diagnostics: [
                Diagnostic(
                    .error, at: SourceLocation(file: path), "cannot read pipeline file: \(reason)",
                    hint: exists
                        ? "pass the path of a .yml pipeline file"
                        : "check the path; it is relative to \(FileManager.default.currentDirectoryPath)")
            ])
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return load(data: data, file: path, baseDirectory: directory, options: options)
    }

    /// Loads pipeline bytes: text that is not UTF-8 is a located error.
    package static func load(data: Data, file path: String, baseDirectory: String, options: LoadOptions) -> LoadResult {
        if data.count > largestFile { return LoadResult(diagnostics: [tooLarge(file: path)]) }
        if let offset = TextPosition.firstInvalidUTF8(data) {
            let (line, column) = TextPosition.of(offset: offset, in: data)
            let byte = String(data[data.startIndex + offset], radix: 16, uppercase: true)
            return LoadResult(diagnostics: [
                Diagnostic(
                    .error, at: SourceLocation(file: path, line: line, column: column),
                    "the file is not valid UTF-8: byte 0x\(byte) at offset \(offset)",
                    hint: "save it as UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8)")
            ])
        }
        let text = String(decoding: data, as: UTF8.self)
        return load(yaml: text, file: path, baseDirectory: baseDirectory, options: options)
    }

    /// Loads pipeline text; relative paths inside it resolve against `baseDirectory`.
    package static func load(yaml: String, file: String, baseDirectory: String, options: LoadOptions) -> LoadResult {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                return LoadResult(diagnostics: [
                    Diagnostic(
                        .error, at: SourceLocation(file: file), "pipeline file is empty",
                        hint: "start with 'version: 1', a 'name:' and a list of 'stages:'")
                ])
            }
            root = node
        } catch {
            return LoadResult(diagnostics: [syntaxDiagnostic(for: error, file: file)])
        }
        if let overflow = NodeBudget.overflow(of: root) {
            return LoadResult(diagnostics: [NodeBudget.diagnostic(at: overflow, file: file)])
        }
        let reader = NodeReader(
            file: file,
            interpolator: Interpolator(commandLine: options.variables, fileVars: [:], environment: options.environment),
            unresolvedVariablesAreErrors: options.unresolvedVariablesAreErrors)
        var builder = PipelineBuilder(reader: reader, baseDirectory: baseDirectory, environment: options.environment)
        SecretScanner.scan(root, reader: reader)
        let pipeline = builder.build(root)
        let diagnostics = reader.diagnostics.sortedByLocation()
        return LoadResult(pipeline: diagnostics.containsErrors ? nil : pipeline, diagnostics: diagnostics)
    }

    /// The largest pipeline file read: ten times a 40,000-value enum; data belongs in a dataset, not the pipeline.
    package static let largestFile = 8 << 20

    static func tooLarge(file: String) -> Diagnostic {
        Diagnostic(
            .error, at: SourceLocation(file: file, line: 1, column: 1),
            "the pipeline file is larger than 8 MiB, the most a pipeline file may be; refused before parsing it",
            hint: "is this the right file? Rows belong in a dataset read by a 'load' stage, not in the pipeline")
    }

    /// YAML syntax errors from libyaml, located as libyaml saw them.
    static func syntaxDiagnostic(for error: any Error, file: String) -> Diagnostic {
        let hint = "check the indentation and quoting around this position"
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if problem.hasPrefix("Maximum nesting level reached") {
                message = "invalid YAML: values are nested more than 1000 levels deep"
            }
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return Diagnostic(
                .error, at: SourceLocation(file: file, line: mark.line, column: mark.column), message, hint: hint)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(
                .error, at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate key \(names) in a mapping", hint: "each key may appear once; merge or remove the repeats")
        case .reader(let problem, let offset, _, let yaml):
            var location = SourceLocation(file: file)
            if let offset {
                let (line, column) = TextPosition.of(offset: offset, in: Array(yaml.utf8))
                location = SourceLocation(file: file, line: line, column: column)
            }
            return Diagnostic(
                .error, at: location, "cannot read YAML: \(problem)\(offset.map { " at byte offset \($0)" } ?? "")",
                hint: "remove the control character (NUL bytes and the like are not text)")
        default:
            return Diagnostic(.error, at: SourceLocation(file: file), "invalid YAML: \(error)", hint: hint)
        }
    }
}
