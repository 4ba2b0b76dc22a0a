package import KilnBasics

/// One item flowing between stages: a stable identity, its position in its stage's output, and its fields.
package struct PipelineItem: Sendable, Hashable {
    /// Stable identity: the same data always gives the same id (used for cache keys and splits).
    package var id: String
    package var fields: JSONObject

    package init(id: String, fields: JSONObject) {
        self.id = id
        self.fields = fields
    }

    package var json: JSONValue {
        var object = JSONObject([("id", .string(id))])
        for (key, value) in fields { object[key] = value }
        return .object(object)
    }

    package init?(json: JSONValue) {
        guard var object = json.objectValue, let id = object["id"]?.stringValue else { return nil }
        object["id"] = nil
        self.init(id: id, fields: object)
    }
}
