import Foundation
package import KilnBasics
import KilnModel

/// Turns a model's answer into a stage value: JSON that matches the schema, or non-empty text.
package enum AnswerValidation {
    /// Part of every cache key: a change here recomputes what it judges.
    package static let version = "answer-validation/v1"

    package static func validate(
        _ text: String, schema: JSONValue?, finishReason: String? = nil
    ) -> Result<JSONValue, ValidationFailure> {
        guard let schema else {
            let blank = text.unicodeScalars.allSatisfy(\.properties.isWhitespace)
            return blank ? .failure(ValidationFailure("the answer is empty")) : .success(.string(text))
        }
        guard let value = extractJSON(from: text) else {
            return .failure(ValidationFailure(notJSON("the answer", text: text, finishReason: finishReason)))
        }
        let violations = JSONSchemaValidator.violations(of: value, against: schema)
        guard violations.isEmpty else {
            return .failure(
                ValidationFailure("the answer does not match the output schema: \(violations.joined(separator: "; "))"))
        }
        return .success(value)
    }

    /// Why `text` is no JSON object: cut off at the token limit (the fix is a higher max_tokens), or not JSON.
    static func notJSON(_ what: String, text: String, finishReason: String?) -> String {
        if finishReason == "length" {
            return
                "\(what) was cut off at max_tokens before its JSON was complete (raise max_tokens of the "
                + "provider): \(text.prefix(60))…"
        }
        return "\(what) is not a JSON object: \(text.prefix(80))"
    }

    /// The JSON object in an answer, tolerating a Markdown fence or text around it (models that ignore "only JSON").
    package static func extractJSON(from text: String) -> JSONValue? {
        if let value = try? JSONValue(parsing: text), value.objectValue != nil { return value }
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else { return nil }
        guard let value = try? JSONValue(parsing: String(text[open...close])), value.objectValue != nil else {
            return nil
        }
        return value
    }
}
