import Foundation

/// Foundation's file errors print as `Error Domain=NSCocoaErrorDomain Code=4 "…" UserInfo={…}`: this turns any
/// error into the one line a user needs, the operating system's reason ("Permission denied", "No such file or
/// directory") when there is one.
package enum SystemErrorText {
    /// The error in one line: the file it concerns when it names one, and its reason.
    package static func line(of error: any Error) -> String {
        if let path = (error as NSError).userInfo[NSFilePathErrorKey] as? String {
            return "\(path): \(reason(of: error))"
        }
        return reason(of: error)
    }

    /// The reason an error happened, in one line without Foundation's dump.
    package static func reason(of error: any Error) -> String {
        if let actionable = error as? ActionableError { return actionable.description }
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: nsError.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
            case .fileWriteNoPermission, .fileReadNoPermission: return "Permission denied"
            case .fileWriteOutOfSpace: return "No space left on device"
            case .fileWriteVolumeReadOnly: return "Read-only file system"
            case .fileWriteFileExists: return "File exists"
            default: break
            }
        }
        let text = "\(error)"
        if text.hasPrefix("Error Domain=") {
            return nsError.localizedDescription.isEmpty ? "error \(nsError.code)" : nsError.localizedDescription
        }
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}
