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
        // Walk from the deepest folder that has no wildcard in its path.
        let segments = absolute.split(separator: "/", omittingEmptySubsequences: false)
        let fixedCount = segments.firstIndex { hasWildcard(String($0)) } ?? segments.count
        let root = segments[..<fixedCount].joined(separator: "/")
        guard let regex = regularExpression(for: absolute) else { return ([], []) }
        var matches: [String] = []
        var badNames: [String] = []
        var folders = [root.isEmpty ? "" : root]
        while let folder = folders.popLast(), matches.count < limit {
            for entry in DirectoryEntries.of(folder.isEmpty ? "/" : folder) {
                guard let name = entry.name, !name.contains(where: \.isNewline) else {
                    badNames.append(folder + "/" + entry.shownName)
                    continue
                }
                let path = folder + "/" + name
                if entry.isDirectory {
                    folders.append(path)
                    continue
                }
                guard (try? regex.wholeMatch(in: path)) != nil else { continue }
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
                else { continue }
                matches.append(path)
                if matches.count >= limit { break }
            }
        }
        return (matches.sorted(), badNames.sorted())
    }

    /// Whether at least one file matches.
    package static func hasMatches(_ pattern: String, base: String) -> Bool {
        !files(matching: pattern, base: base, limit: 1).isEmpty
    }

    static func hasWildcard(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The glob as an anchored regular expression over whole paths.
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
