import KilnBasics
import KilnLoading
import Testing

/// Every malformed fixture yields exactly the diagnostics in its `.expected` file: file:line:col, message and hint.
@Suite struct MalformedPipelines {
    @Test func thereAreAtLeastFortyMalformedFixtures() {
        #expect(Fixtures.names(in: "invalid").count >= 40)
    }

    @Test(arguments: Fixtures.names(in: "invalid"))
    func reportsTheExactDiagnostics(name: String) {
        let result = Fixtures.load("invalid", name)
        #expect(Fixtures.rendered(result, folder: "invalid") == Fixtures.expected(name))
        #expect(result.pipeline == nil, "a malformed pipeline must not load")
        #expect(result.diagnostics.containsErrors)
    }

    @Test func reportsFiveMistakesInOneRun() {
        let result = Fixtures.load("invalid", "five-mistakes")
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 5)
        #expect(errors.allSatisfy { $0.location.line > 0 && $0.location.column > 0 })
        #expect(Set(errors.map(\.location.line)).count == 5)
    }
}
