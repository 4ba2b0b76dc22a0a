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
}
