import Foundation

/// Kiln 1.2.0's naming rules, so every name and key kiln-pipe writes is one Kiln accepts: a `name` field must
/// equal its own `string_to_valid_name` and fit its length (120 characters; 32 for requirement and score names),
/// and a score is keyed by `string_to_json_key` of its name.
package enum KilnNames {
    /// Kiln's limit for most names (`FilenameString`).
    package static let maxLength = 120
    /// Kiln's limit for requirement and eval score names (`FilenameStringShort`).
    package static let shortMaxLength = 32
    /// The characters Kiln's names cannot hold, as its error message lists them.
    package static let forbiddenList = #"/ \ ? % * : | < > . , ; = and line breaks"#

    /// Kiln's `string_to_valid_name`: NFKD, forbidden characters and controls to spaces, whitespace and `_` runs
    /// collapsed, `_` and whitespace stripped at the ends.
    package static func validName(_ name: String) -> String {
        let forbidden = Set("/\\?%*:|\"<>.,;=\n".unicodeScalars)
        let scalars = name.decomposedStringWithCompatibilityMapping.unicodeScalars.map { scalar in
            forbidden.contains(scalar) || scalar.value < 0x20 ? " " : scalar
        }
        var text = String(String.UnicodeScalarView(scalars))
        text = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while text.contains("__") { text = text.replacingOccurrences(of: "__", with: "_") }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "_")).trimmingCharacters(in: .whitespaces)
    }

    /// The name Kiln accepts for `name`: valid, and cut to `limit` characters (then made valid again, as a cut
    /// can leave a trailing space or `_`).
    package static func accepted(_ name: String, limit: Int = maxLength) -> String {
        var text = validName(name)
        while text.count > limit { text = validName(String(text.prefix(limit))) }
        return text
    }

    /// Kiln's `string_to_json_key`: trimmed, lower-cased, spaces to `_`, then only `a-z`, `0-9` and `_` kept.
    package static func jsonKey(_ name: String) -> String {
        let text = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().replacingOccurrences(
            of: " ", with: "_")
        return String(
            text.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }.map(
                Character.init))
    }

    /// The key Kiln gives the score of a requirement or assertion named `name` (the key of its accepted name).
    package static func scoreKey(_ name: String) -> String { jsonKey(accepted(name, limit: shortMaxLength)) }

    /// A child folder's name: `<id> - <valid name of the first 32 characters>`.
    package static func folderName(id: String, name: String) -> String {
        "\(id) - \(validName(String(name.prefix(32))))"
    }
}
