import Foundation

/// File globs as users write them in pipelines: `*` and `?` within a path segment, `**` across folders,
/// `[abc]` classes; a plain folder means every file below it.
package enum GlobMatcher {
    /// Files (not folders) under `base` matched by `pattern`, sorted, as absolute paths.
    package static func files(matching pattern: String, base: String, limit: Int = .max) -> [String] {
        walk(matching: pattern, base: base, limit: limit).files
    }

    /// The files `pattern` matches, and the entries below its folders whose names cannot be matched or shown: not
    /// UTF-8, or holding a line break. Those are listed (bytes as `\xNN`, breaks as `\n`) for the caller to report,
    /// never opened and never silently left out.
    package static func walk(
        matching pattern: String, base: String, limit: Int = .max
    ) -> (files: [String], badNames: [String]) {
        var absolute = pattern.hasPrefix("/") ? pattern : base + "/" + pattern
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        var isDirectory: ObjCBool = false
        if !hasWildcard(absolute) {
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else { return ([], []) }
            return isDirectory.boolValue ? walk(matching: absolute + "/**", base: base, limit: limit) : ([absolute], [])
        }
        // Walk from the deepest folder that has no wildcard in its path, one pattern segment per level: a folder
        // is entered only when a segment can match it (`../*/*.md` reads two levels, not the whole disk).
        let segments = absolute.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let fixedCount = segments.firstIndex { hasWildcard($0) } ?? segments.count
        let root = segments[..<fixedCount].joined(separator: "/")
        var expressions: [Regex<AnyRegexOutput>?] = []
        for segment in segments[fixedCount...] {
            if segment == "**" {
                expressions.append(nil)
            } else if let expression = regularExpression(for: segment) {
                expressions.append(expression)
            } else {
                return ([], [])
            }
        }
        var walker = Walker(segments: expressions, limit: limit)
        walker.walk(root, segment: 0)
        return (walker.matches.sorted(), walker.badNames.sorted())
    }

    /// Walks folders segment by segment; `nil` is `**` (any number of folders, none included).
    private struct Walker {
        let segments: [Regex<AnyRegexOutput>?]
        let limit: Int
        var matches: Set<String> = []
        var badNames: Set<String> = []
        var visited: Set<String> = []

        mutating func walk(_ folder: String, segment index: Int) {
            guard index < segments.count, matches.count < limit, visited.insert("\(index) \(folder)").inserted else {
                return
            }
            // A name that cannot be matched or shown is listed, never walked into or matched.
            var entries: [(name: String, isDirectory: Bool)] = []
            for entry in DirectoryEntries.of(folder.isEmpty ? "/" : folder) {
                guard let name = entry.name, !name.contains(where: \.isNewline) else {
                    badNames.insert(folder + "/" + entry.shownName)
                    continue
                }
                entries.append((name, entry.isDirectory))
            }
            let last = index == segments.count - 1
            guard let expression = segments[index] else {
                walk(folder, segment: index + 1)
                for entry in entries {
                    if entry.isDirectory {
                        walk(folder + "/" + entry.name, segment: index)
                    } else if last {  // a trailing `**`: every file below
                        add(folder + "/" + entry.name)
                    }
                }
                return
            }
            for entry in entries where (try? expression.wholeMatch(in: entry.name)) != nil {
                if entry.isDirectory {
                    walk(folder + "/" + entry.name, segment: index + 1)
                } else if last {
                    add(folder + "/" + entry.name)
                }
            }
        }

        /// Adds a file (a symbolic link counts when it leads to a file, not a folder).
        mutating func add(_ path: String) {
            var isDirectory: ObjCBool = false
            guard matches.count < limit, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            else { return }
            matches.insert(path)
        }
    }

    /// Whether at least one file matches.
    package static func hasMatches(_ pattern: String, base: String) -> Bool {
        !files(matching: pattern, base: base, limit: 1).isEmpty
    }

    static func hasWildcard(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The glob (one path segment, or a whole path) as an anchored regular expression.
    static func regularExpression(for glob: String) -> Regex<AnyRegexOutput>? {
        var pattern = ""
        var characters = Substring(glob)
        while let character = characters.first {
            characters = characters.dropFirst()
            switch character {
            case "*":
                if characters.first == "*" {
                    characters = characters.dropFirst()
                    if characters.first == "/" {
                        characters = characters.dropFirst()
                        pattern += "(?:.*/)?"
                    } else {
                        pattern += ".*"
                    }
                } else {
                    pattern += "[^/]*"
                }
            case "?": pattern += "[^/]"
            case "[":
                guard let close = characters.firstIndex(of: "]") else { return nil }
                pattern += "[" + characters[..<close].replacingOccurrences(of: "\\", with: "\\\\") + "]"
                characters = characters[characters.index(after: close)...]
            default:
                pattern += character.isLetter || character.isNumber ? String(character) : "\\" + String(character)
            }
        }
        return (try? Regex(pattern))?.dotMatchesNewlines()
    }
}
