import KilnBasics

/// Whether a search found the chunk a question was written from. Chunks are compared by place, not by number: a
/// found chunk counts when it is of the same document and covers at least half of the source chunk's text, so an
/// index chunked as the questions were matches exactly, and one chunked otherwise is judged by what it returned.
enum RetrievalMatch {
    /// The chunks an agent's searches returned, best first, each once (a chunk found again keeps its first rank).
    static func ranked(_ retrieved: [JSONValue]) -> [JSONValue] {
        var seen: Set<String> = []
        return retrieved.filter { chunk in
            seen.insert("\(chunk["document_id"]?.stringValue ?? "")\u{1F}\(chunk["chunk_idx"]?.serialized() ?? "")")
                .inserted
        }
    }

    static func covers(_ found: JSONValue, _ source: JSONValue) -> Bool {
        guard found["document_id"]?.stringValue == source["document_id"]?.stringValue else { return false }
        let number = { (value: JSONValue?) in value?.numberValue.map { Int($0) } }
        guard let start = number(source["start"]), let end = number(source["end"]), end > start,
            let foundStart = number(found["start"]), let foundEnd = number(found["end"])
        else {
            // Without places, the chunk's number in the same document.
            return number(found["chunk_idx"]) == number(source["chunk_idx"])
        }
        let overlap = min(end, foundEnd) - max(start, foundStart)
        return overlap * 2 >= end - start
    }
}
