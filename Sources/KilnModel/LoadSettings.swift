package import KilnBasics

/// The file formats `load` reads.
package enum LoadFormat: String, Sendable, Hashable, CaseIterable {
    case jsonl
    case csv
    case json
    /// Every file of a folder is one item.
    case folder
    /// The runs of a task in a Kiln project.
    case kiln
}

/// What `load` does with a row it cannot read.
package enum OnError: String, Sendable, Hashable, CaseIterable {
    /// Stop with a located error.
    case fail
    /// Count and report the row, go on with the rest.
    case skip
}

/// `load`: existing data read as items.
package struct LoadSettings: Sendable, Hashable {
    /// File or folder, relative to the pipeline file; nil when reading a Kiln project.
    package var path: String?
    package var format: LoadFormat
    package var kilnProject: String?
    package var taskID: String?
    /// A Kiln dataset filter (`all`, `high_rating`, `tag::NAME`, …) applied to Kiln runs.
    package var filter: DatasetFilter
    /// Item field (`input`, `output`, `expected`, `tags`, `rating`, `id`) -> column name or JSON path.
    package var fields: [String: String]
    package var onError: OnError
    package var limit: Int?
    /// How the file's bytes become text: UTF-8 or UTF-16 by its byte-order mark unless named; bytes that do not
    /// decode are a bad row, never replacement characters.
    package var encoding: TextEncoding

    package static let fieldNames = ["input", "output", "expected", "tags", "rating", "id", "assert", "rubric"]

    package init(
        path: String? = nil, format: LoadFormat, kilnProject: String? = nil, taskID: String? = nil,
        filter: DatasetFilter = .all, fields: [String: String] = [:], onError: OnError = .fail, limit: Int? = nil,
        encoding: TextEncoding = .auto
    ) {
        self.encoding = encoding
        self.path = path
        self.format = format
        self.kilnProject = kilnProject
        self.taskID = taskID
        self.filter = filter
        self.fields = fields
        self.onError = onError
        self.limit = limit
    }
}

extension LoadSettings {
    /// The `fields:` mappings whose column (or JSON path) `row` lacks, as (item field, column), by field name.
    package func unmappedFields(in row: JSONValue) -> [(field: String, column: String)] {
        fields.sorted { $0.key < $1.key }.compactMap { field, column in
            JSONPath.lookup(column, in: row) == nil ? (field, column) : nil
        }
    }

    /// What to say about a mapping to a column the data does not have: the message and a hint naming the nearest
    /// column, or listing them all.
    package static func unmappedMessage(
        field: String, column: String, file: String, row: JSONValue
    ) -> (message: String, hint: String) {
        let columns = row.objectValue?.keys.map { $0 } ?? []
        return (
            "fields: \(field) maps to column '\(column)', which \(file) does not have",
            columns.isEmpty
                ? "its rows are not JSON objects or CSV rows with a header"
                : NearMiss.hint(for: column, among: columns, listing: "its columns are")
        )
    }
}
