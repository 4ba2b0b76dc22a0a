import Foundation

/// Folder creation that keeps the operating system's reason: Foundation's `createDirectory` on Linux reports a
/// path under a file, a read-only file system or a missing permission alike as "NSCocoaErrorDomain error 512".
package enum Folder {
    /// Creates `path` and its missing parents (`mkdir -p`); throws a `POSIXError` with the failing errno.
    package static func create(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o777) != 0 {
                let code = errno
                var info = stat()
                guard code == EEXIST, stat(prefix, &info) == 0 else { throw posixError(code) }
                guard (info.st_mode & S_IFMT) == S_IFDIR else { throw posixError(ENOTDIR) }
            }
            prefix += "/"
        }
    }

    /// `create`, failing with "cannot create <what> <path>: <the system's reason> (<hint>)".
    package static func create(_ path: String, as what: String, hint: String) throws(ActionableError) {
        do {
            try create(path)
        } catch {
            throw ActionableError.io("create \(what)", path, hint: hint, cause: error)
        }
    }

    private static func posixError(_ code: Int32) -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    }
}
