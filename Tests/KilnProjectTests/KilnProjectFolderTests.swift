import Foundation
import KilnBasics
import KilnProject
import Testing

/// The one scanner of a Kiln project's tasks: what it finds, and what it says when it cannot.
@Suite struct KilnProjectFolderScanning {
    /// A project with two tasks (folders out of id order) and a stray folder without a task.kiln.
    static func project(extra: [String: String] = [:]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-project-\(UUID().uuidString)")
        var files = [
            "project.kiln": #"{"v": 1, "name": "P", "model_type": "project"}"#,
            "tasks/2 - Beta/task.kiln": #"{"id": "2", "name": "Beta", "instruction": "b", "model_type": "task"}"#,
            "tasks/1 - Alpha/task.kiln": #"{"id": "1", "name": "Alpha", "instruction": "a", "model_type": "task"}"#,
            "tasks/stray/notes.txt": "not a task",
        ]
        files.merge(extra) { _, new in new }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func findsEveryTaskInFolderOrder() throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = try KilnProjectFolder(projectFile: root.appendingPathComponent("project.kiln").path)
        #expect(try project.tasks().map(\.id) == ["1", "2"])
        #expect(try project.task(id: "2").url.lastPathComponent == "2 - Beta")
    }

    @Test func anUnknownTaskListsTheTasksThereAre() throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = try KilnProjectFolder(projectFile: root.appendingPathComponent("project.kiln").path)
        #expect {
            try project.task(id: "3")
        } throws: { error in
            "\(error)".contains("has no task with id '3' (its tasks are: 1 'Alpha', 2 'Beta')")
        }
    }

    @Test(arguments: [
        ("project.kiln", "{not json", "is not valid JSON"),
        ("project.kiln", #"{"model_type": "task", "name": "x"}"#, "is not a Kiln project file"),
        ("tasks/2 - Beta/task.kiln", "[1]", "Kiln task file 'tasks/2 - Beta/task.kiln' is not valid JSON"),
    ])
    func aDamagedFileIsNamed(file: String, text: String, message: String) throws {
        let root = try Self.project(extra: [file: text])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try KilnProjectFolder(projectFile: root.appendingPathComponent("project.kiln").path).tasks()
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: ["/nonexistent/project.kiln", "/nonexistent", "/nonexistent/"])
    func aMissingProjectSaysWhereItLooked(path: String) {
        #expect {
            try KilnProjectFolder(projectFile: path)
        } throws: { error in
            "\(error)".contains("there is no Kiln project at '\(path)' (no /nonexistent/project.kiln)")
        }
    }

    /// A project is named by its folder or by its project.kiln; both open the same project.
    @Test func theFolderOrItsProjectFileOpenTheProject() throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        for path in [root.path, root.path + "/", root.appendingPathComponent("project.kiln").path] {
            let project = try KilnProjectFolder(projectFile: path)
            #expect(project.projectFile.path == root.appendingPathComponent("project.kiln").standardizedFileURL.path)
            #expect(try project.tasks().count == 2)
        }
    }
}
