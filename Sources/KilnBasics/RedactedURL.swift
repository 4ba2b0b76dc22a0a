/// A URL as messages may show it: any password replaced by `***` (`postgres://user:***@host/db`).
package enum RedactedURL {
    package static func of(_ url: String) -> String {
        url.replacing(#/:[^:@/]*@/#, with: ":***@")
    }
}
