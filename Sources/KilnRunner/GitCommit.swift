import Foundation

/// The commit checked out in the git work tree around a folder, read from `.git` directly (no `git` process, no
/// `git` needed): HEAD, the branch it names, or packed-refs.
package enum GitCommit {
    /// The full hash, or nil outside a work tree (or in one without commits).
    package static func of(folder: String) -> String? {
        var directory = URL(fileURLWithPath: folder).standardizedFileURL
        while true {
            let dotGit = directory.appendingPathComponent(".git")
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isFolder) {
                return isFolder.boolValue ? head(in: dotGit) : linkedHead(dotGit)
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }

    /// A linked work tree's `.git` file names its git folder: `gitdir: PATH`.
    private static func linkedHead(_ file: URL) -> String? {
        guard let text = try? String(contentsOf: file, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        let folder =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : file.deletingLastPathComponent().appendingPathComponent(path)
        return head(in: folder)
    }

    private static func head(in gitFolder: URL) -> String? {
        guard let head = read(gitFolder.appendingPathComponent("HEAD")) else { return nil }
        guard head.hasPrefix("ref:") else { return isHash(head) ? head : nil }
        let ref = head.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces)
        // A linked work tree keeps its branches in the main git folder (`commondir`).
        var folders = [gitFolder]
        if let common = read(gitFolder.appendingPathComponent("commondir")) {
            folders.append(
                common.hasPrefix("/")
                    ? URL(fileURLWithPath: common) : gitFolder.appendingPathComponent(common).standardizedFileURL)
        }
        for folder in folders {
            if let hash = read(folder.appendingPathComponent(ref)), isHash(hash) { return hash }
            let packed = (try? String(contentsOf: folder.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
            for line in packed.split(separator: "\n") where line.hasSuffix(" \(ref)") {
                let hash = String(line.prefix { $0 != " " })
                if isHash(hash) { return hash }
            }
        }
        return nil
    }

    private static func read(_ file: URL) -> String? {
        (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isHash(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}
