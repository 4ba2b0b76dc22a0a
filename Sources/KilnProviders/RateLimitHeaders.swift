package import Foundation

/// Reads the rate-limit headers providers send: `Retry-After` (seconds or HTTP-date), `retry-after-ms`,
/// OpenAI's `x-ratelimit-*` and Anthropic's `anthropic-ratelimit-*`.
package enum RateLimitHeaders {
    /// Seconds to wait before retrying, if the provider said.
    package static func retryAfter(from headers: [String: String], now: Date = Date()) -> Double? {
        if let milliseconds = headers["retry-after-ms"].flatMap(Double.init), milliseconds >= 0 {
            return milliseconds / 1000
        }
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }

    package static func hints(from headers: [String: String]) -> RateLimitHints {
        RateLimitHints(
            remainingRequests: (headers["x-ratelimit-remaining-requests"]
                ?? headers["anthropic-ratelimit-requests-remaining"])
                .flatMap { Int($0) },
            remainingTokens: (headers["x-ratelimit-remaining-tokens"]
                ?? headers["anthropic-ratelimit-tokens-remaining"])
                .flatMap { Int($0) },
            requestsResetSeconds: headers["x-ratelimit-reset-requests"].flatMap(duration),
            tokensResetSeconds: headers["x-ratelimit-reset-tokens"].flatMap(duration))
    }

    /// OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
    package static func duration(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        var matched = false
        while let character = rest.first {
            if character.isNumber || character == "." {
                number.append(character)
                rest = rest.dropFirst()
                continue
            }
            guard let value = Double(number) else { return nil }
            if rest.hasPrefix("ms") {
                total += value / 1000
                rest = rest.dropFirst(2)
            } else if character == "h" {
                total += value * 3600
                rest = rest.dropFirst()
            } else if character == "m" {
                total += value * 60
                rest = rest.dropFirst()
            } else if character == "s" {
                total += value
                rest = rest.dropFirst()
            } else {
                return nil
            }
            number = ""
            matched = true
        }
        if !number.isEmpty { return matched ? nil : Double(number) }
        return total
    }
}
