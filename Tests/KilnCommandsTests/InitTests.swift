import Foundation
import Testing

/// `kiln-pipe init`: every starter validates, runs at once against the fake (exit 0), and a rerun is answered
/// from the store (`--offline` exits 0 only when nothing is missing); files already there are never replaced
/// unless asked.
@Suite struct InitStarters {
    @Test(arguments: ["eval", "sdg", "docs", "agent", "kiln"])
    func aStarterRunsAtOnceAndItsRerunNeedsNoCall(template: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-init-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let initialized = try KilnPipeBinary.run(["init", template, "--dir", directory.path])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let file = "\(template).yml"
        #expect(initialized.stdout.contains("kiln-pipe validate \(directory.path)/\(file)"), "\(initialized.stdout)")
        #expect(try KilnPipeBinary.run(["validate", file], in: directory).status == 0)
        let run = try KilnPipeBinary.run(["run", file], in: directory)
        #expect(run.status == 0, "\(template): \(run.stdout)\(run.stderr)")
        let rerun = try KilnPipeBinary.run(["run", file, "--offline"], in: directory)
        #expect(rerun.status == 0, "\(template): \(rerun.stdout)\(rerun.stderr)")
        // The schema its first line names is beside it.
        let first = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).prefix {
            $0 != "\n"
        }
        #expect(first == "# yaml-language-server: $schema=kiln-pipe.schema.json")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("kiln-pipe.schema.json").path))
        if template == "kiln", let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] {
            // Kiln itself opens the project the starter wrote: the four golden answers, the eval, the split.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [
                "-W", "ignore", "-c",
                "import sys\nfrom kiln_ai.datamodel import Project\n"
                    + "task = Project.load_from_file(sys.argv[1]).tasks()[0]\n"
                    + "print(len(task.runs()), len(task.evals()), len(task.dataset_splits()))",
                directory.appendingPathComponent("kiln-project/project.kiln").path,
            ]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(text == "4 1 1\n", "\(text)")
        }

        // Again into the same folder: refused, nothing touched; --force replaces.
        let pipeline = directory.appendingPathComponent(file)
        try "# edited\n".write(to: pipeline, atomically: true, encoding: .utf8)
        let again = try KilnPipeBinary.run(["init", template, "--dir", directory.path])
        #expect(again.status == 2 && again.stderr.contains("already exist"), "\(again.stderr)")
        #expect(try String(contentsOf: pipeline, encoding: .utf8) == "# edited\n")
        #expect(try KilnPipeBinary.run(["init", template, "--dir", directory.path, "--force"]).status == 0)
        #expect(try String(contentsOf: pipeline, encoding: .utf8) != "# edited\n")
    }

    @Test func anUnknownTemplateNamesTheNearest() throws {
        let outcome = try KilnPipeBinary.run(["init", "evl", "--dir", "/tmp/kiln-init-never"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("unknown template 'evl' (did you mean 'eval'?)"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/kiln-init-never"))
    }
}
