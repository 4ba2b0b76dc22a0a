package import KilnBasics

/// JSON as Kiln writes its `.kiln` files (pydantic's `model_dump_json(indent=2)`): two-space indent, `": "`,
/// non-ASCII raw, `/` unescaped, control characters as lowercase `\u00xx`, floats formatted as pydantic-core
/// (serde / ryu) does — `5.0`, `0.0000224`, `1e-7` — and no trailing newline.
package enum KilnFileJSON {
    package static func dumps(_ value: JSONValue) -> String {
        var output = ""
        write(value, depth: 0, to: &output)
        return output
    }

    private static func write(_ value: JSONValue, depth: Int, to output: inout String) {
        let indent = String(repeating: "  ", count: depth + 1)
        let closing = String(repeating: "  ", count: depth)
        switch value {
        case .null, .bool, .integer, .string: output += value.serialized()
        case .double(let number): output += float(number)
        case .array(let elements):
            guard !elements.isEmpty else {
                output += "[]"
                return
            }
            output += "[\n"
            for (offset, element) in elements.enumerated() {
                output += indent
                write(element, depth: depth + 1, to: &output)
                output += offset < elements.count - 1 ? ",\n" : "\n"
            }
            output += closing + "]"
        case .object(let object):
            guard object.count > 0 else {
                output += "{}"
                return
            }
            output += "{\n"
            var index = 0
            for entry in object {
                output += indent + JSONValue.string(entry.key).serialized() + ": "
                write(entry.value, depth: depth + 1, to: &output)
                index += 1
                output += index < object.count ? ",\n" : "\n"
            }
            output += closing + "}"
        }
    }

    /// A float as ryu formats it for serde_json (shortest round-trip digits): decimal notation while the
    /// decimal point falls within 16 digits and above 1e-5, scientific (`1e-7`, `1.5e+16`) otherwise.
    package static func float(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == 0 { return number.sign == .minus ? "-0.0" : "0.0" }
        let text = "\(abs(number))"
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(mantissa[0])
        let fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
        var digits = whole + fraction
        var k = exponent - fraction.count
        while digits.count > 1, digits.hasPrefix("0") { digits.removeFirst() }
        while digits.count > 1, digits.hasSuffix("0") {
            digits.removeLast()
            k += 1
        }
        let length = digits.count
        let kk = length + k
        let sign = number < 0 ? "-" : ""
        if k >= 0, kk <= 16 { return sign + digits + String(repeating: "0", count: k) + ".0" }
        if kk > 0, kk <= 16 {
            let point = digits.index(digits.startIndex, offsetBy: kk)
            return sign + digits[..<point] + "." + digits[point...]
        }
        if kk > -5, kk <= 0 { return sign + "0." + String(repeating: "0", count: -kk) + digits }
        let rest = digits.dropFirst()
        let power = kk - 1
        return sign + String(digits.prefix(1)) + (rest.isEmpty ? "" : "." + rest) + "e" + (power > 0 ? "+" : "")
            + String(power)
    }
}
