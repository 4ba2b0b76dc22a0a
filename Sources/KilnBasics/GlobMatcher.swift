import Foundation

/// File globs as users write them in pipelines: `*` and `?` within a path segment, `**` across folders,
/// `[abc]` classes; a plain folder means every file below it.
package enum GlobMatcher {
    /// Files (not folders) under `base` matched by `pattern`, sorted, as absolute paths.
    package static func files(matching pattern: String, base: String, limit: Int = .max) -> [String] {
        var absolute = pattern.hasPrefix("/") ? pattern : base + "/" + pattern
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        var isDirectory: ObjCBool = false
        if !hasWildcard(absolute) {
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else { return [] }
            return isDirectory.boolValue ? files(matching: absolute + "/**", base: base, limit: limit) : [absolute]
        }
        // Walk from the deepest folder that has no wildcard in its path.
        let segments = absolute.split(separator: "/", omittingEmptySubsequences: false)
        let fixedCount = segments.firstIndex { hasWildcard(String($0)) } ?? segments.count
        let root = segments[..<fixedCount].joined(separator: "/")
        let regex = regularExpression(for: absolute)
        guard let regex, let walker = FileManager.default.enumerator(atPath: root.isEmpty ? "/" : root) else {
            return []
        }
        var matches: [String] = []
        while let relative = walker.nextObject() as? String {
            let path = (root.isEmpty ? "" : root) + "/" + relative
            guard (try? regex.wholeMatch(in: path)) != nil else { continue }
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            matches.append(path)
            if matches.count >= limit { break }
        }
        return matches.sorted()
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
        return try? Regex(pattern)
    }
}
