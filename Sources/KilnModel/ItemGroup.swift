package import KilnBasics

/// What judges, reports and comparisons group items by: the variant of an `outputs` matrix cell
/// (`terse/gpt/temperature=0.7`) when the item has one, else the model (provider id) that answered.
package enum ItemGroup {
    package static func of(_ item: JSONValue) -> String {
        item["variant"]?.stringValue ?? item["model"]?.stringValue ?? ""
    }

    package static func of(fields: JSONObject) -> String {
        fields["variant"]?.stringValue ?? fields["model"]?.stringValue ?? ""
    }
}
