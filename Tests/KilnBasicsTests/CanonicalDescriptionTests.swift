import KilnBasics
import Testing

@Suite struct CanonicalDescriptionBehaviour {
    struct Settings {
        var name: String
        var fields: [String: String]
        var tags: Set<String>
        var limit: Int?
    }

    @Test func equalValuesGiveTheSameTextWhateverTheHashOrder() {
        let fields = Dictionary(uniqueKeysWithValues: (0..<50).map { ("key\($0)", "value\($0)") })
        let a = Settings(name: "n", fields: fields, tags: Set((0..<20).map(String.init)), limit: 3)
        var rebuilt: [String: String] = [:]
        for (key, value) in fields.reversed() { rebuilt[key] = value }
        let b = Settings(name: "n", fields: rebuilt, tags: Set((0..<20).reversed().map(String.init)), limit: 3)
        #expect(CanonicalDescription.of(a) == CanonicalDescription.of(b))
        #expect(
            CanonicalDescription.of(a)
                != CanonicalDescription.of(Settings(name: "n", fields: fields, tags: [], limit: nil)))
        #expect(CanonicalDescription.of(a).contains(#""key7": "value7""#))
    }
}
