/// "Did you mean …?" suggestions for misspelled names.
package enum NearMiss {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
    package static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        guard word.utf8.count <= 200 else { return nil }  // no name is that long; spare the quadratic distance
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        // A third of the longer word, at least 2: catches swapped or dropped letters, not unrelated words.
        let allowed = max(2, max(word.count, best.candidate.count) / 3)
        return best.distance <= allowed ? best.candidate : nil
    }

    /// A hint of the form "did you mean 'x'?" or, failing that, a list of what is allowed.
    package static func hint(
        for word: String, among candidates: [String], listing noun: String = "expected one of"
    )
        -> String
    {
        if let suggestion = suggestion(for: word, among: candidates) {
            return "did you mean '\(suggestion)'?"
        }
        return "\(noun): \(candidates.map { "'\($0)'" }.joined(separator: ", "))"
    }

    /// Damerau-Levenshtein distance (optimal string alignment): a transposition costs one edit.
    package static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = Swift.min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
