extension StringProtocol {
    /// The text as a message may quote it: at most `limit` characters, the rest named by its size, so a 50 MB value
    /// never becomes a 50 MB message. Line breaks are shown as `\n` so a diagnostic stays one line.
    package func excerpt(_ limit: Int = 80) -> String {
        let head = prefix(limit)
        var text =
            head.contains(where: \.isNewline)
            ? head.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: "\\n")
            : String(head)
        if head.endIndex < endIndex {
            text += "… (\(utf8.count) bytes in all)"
        }
        return text
    }
}

extension String {
    /// The text with every single-quoted span longer than `longest` characters cut to an excerpt: messages quote
    /// what the user wrote ('…'), and a 5 MB value must not make a 5 MB message.
    package func cuttingQuotedSpans(longerThan longest: Int = 200) -> String {
        guard count > longest else { return self }
        var result = ""
        var rest = self[...]
        while let open = rest.firstIndex(of: "'"),
            let close = rest[rest.index(after: open)...].firstIndex(of: "'")
        {
            let span = rest[rest.index(after: open)..<close]
            result += rest[...open]
            result += span.count > longest ? span.excerpt() : String(span)
            result += "'"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}
