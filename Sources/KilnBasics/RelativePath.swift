import Foundation

/// Paths as kiln-pipe shows and stores them: relative to a folder (`../` where needed), so ids, locks and
/// cassettes do not depend on where a project is checked out.
package enum RelativePath {
    /// `path` relative to `base`; the absolute path when they share nothing but the root.
    package static func of(_ path: String, from base: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let origin = URL(fileURLWithPath: base).standardizedFileURL.pathComponents
        let shared = zip(target, origin).prefix { $0 == $1 }.count
        guard shared > 1 else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        let parts = Array(repeating: "..", count: origin.count - shared) + target[shared...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// Whether a relative path leaves the folder it starts in (`../x`, `a/../../x`).
    package static func climbsOut(_ path: String) -> Bool {
        var depth = 0
        for component in path.split(separator: "/") {
            if component == ".." {
                depth -= 1
                if depth < 0 { return true }
            } else if component != "." {
                depth += 1
            }
        }
        return false
    }
}
