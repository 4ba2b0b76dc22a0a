import Foundation
package import KilnBasics

/// JSON exactly as Python's `json.dumps(value, ensure_ascii=False)` writes it: `", "` and `": "` separators,
/// non-ASCII raw, `/` unescaped, control characters as lowercase `\u00xx`, floats as Python's repr. Kiln's
/// exports are written this way, so byte-exact files need it.
package enum PythonJSON {
    package static func dumps(_ value: JSONValue) -> String {
        var output = ""
        write(value, to: &output)
        return output
    }

    private static func write(_ value: JSONValue, to output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .double(let number): output += repr(number)
        case .string(let text): writeString(text, to: &output)
        case .array(let elements):
            output += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output += ", " }
                write(element, to: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (offset, entry) in object.enumerated() {
                if offset > 0 { output += ", " }
                writeString(entry.key, to: &output)
                output += ": "
                write(entry.value, to: &output)
            }
            output += "}"
        }
    }

    /// Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
    package static func repr(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number > 0 ? "Infinity" : "-Infinity" }
        return number.description
    }

    /// String literals follow the same rules as `JSONValue.serialized()` (non-ASCII raw, `/` unescaped, control
    /// characters as lowercase `\u00xx`), which are Python's with `ensure_ascii=False`.
    private static func writeString(_ text: String, to output: inout String) {
        output += JSONValue.string(text).serialized()
    }

    /// Python's `str()` of a JSON value (Kiln turns a tool result that is not text into text this way):
    /// `{'a': [1, True, None]}`, a string as itself at the top and quoted as `repr` inside.
    package static func str(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return pythonRepr(value)
    }

    private static func pythonRepr(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .integer(let number): return String(number)
        case .double(let number): return repr(number)
        case .string(let text):
            let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
            var output = String(quote)
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": output += "\\\\"
                case "\n": output += "\\n"
                case "\r": output += "\\r"
                case "\t": output += "\\t"
                case _ where Character(scalar) == quote: output += "\\" + String(quote)
                case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                    output += "\\x" + String(format: "%02x", scalar.value)
                default: output.unicodeScalars.append(scalar)
                }
            }
            return output + String(quote)
        case .array(let elements): return "[" + elements.map(pythonRepr).joined(separator: ", ") + "]"
        case .object(let object):
            return "{"
                + object.map { "\(pythonRepr(.string($0.key))): \(pythonRepr($0.value))" }.joined(separator: ", ")
                + "}"
        }
    }
}
