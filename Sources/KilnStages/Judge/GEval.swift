import Foundation
import KilnModel
import KilnProviders

/// G-Eval scoring: the score of each rubric item is the probability-weighted mean of the score tokens the judge
/// could have written at that position, read from the answer's logprobs (top alternatives).
enum GEval {
    /// The weighted score for `key`, or nil when the logprobs do not cover its value (caller falls back).
    static func score(for key: String, type: ScoreType, in choice: ChatChoice) -> Double? {
        guard let tokens = choice.logprobs, !tokens.isEmpty else { return nil }
        // Rebuild the text from the tokens to find the token where the key's value starts.
        var offsets: [Int] = []
        var text = ""
        for token in tokens {
            offsets.append(text.count)
            text += token.token
        }
        guard let keyRange = text.range(of: "\"\(key)\"") else { return nil }
        var index = text.distance(from: text.startIndex, to: keyRange.upperBound)
        let characters = Array(text)
        while index < characters.count,
            characters[index] == ":" || characters[index].isWhitespace || characters[index] == "\""
        {
            index += 1
        }
        guard let position = offsets.lastIndex(where: { $0 <= index }) else { return nil }
        let token = tokens[position]
        let candidates = [TokenAlternative(token: token.token, logprob: token.logprob)] + token.alternatives
        var weighted = 0.0
        var mass = 0.0
        var seen: Set<String> = []
        for candidate in candidates {
            let cleaned = candidate.token.trimmingCharacters(in: CharacterSet(charactersIn: "\" \n")).lowercased()
            guard seen.insert(cleaned).inserted, let value = value(of: cleaned, type: type) else { continue }
            let probability = exp(candidate.logprob)
            weighted += probability * value
            mass += probability
        }
        return mass > 0 ? weighted / mass : nil
    }

    /// A score token's value; a five_star token may be just the digit.
    private static func value(of token: String, type: ScoreType) -> Double? {
        switch type {
        case .fiveStar: return Double(token).flatMap { (1...5).contains($0) ? $0 : nil }
        case .passFail, .passFailCritical:
            if "pass".hasPrefix(token), !token.isEmpty, token.count >= 2 { return 1 }
            if "fail".hasPrefix(token), !token.isEmpty, token.count >= 2 { return 0 }
            if type == .passFailCritical, "critical".hasPrefix(token), token.count >= 2 { return -1 }
            return nil
        }
    }
}
