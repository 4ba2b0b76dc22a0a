import ArgumentParser
import KilnBasics
import KilnReports

/// `--fail-on-regression "overall: -0.2, polite: 0"`, shared by `compare` and `run --baseline`.
struct RegressionOptions: ParsableArguments {
    @Option(
        name: .customLong("fail-on-regression"),
        help: ArgumentHelp(
            "Exit 1 when a score's mean fell further than allowed from the earlier run (run: its --baseline), e.g. "
                + "\"overall: -0.2, polite: 0\" (* for every score), listing the items that fell.",
            valueName: "SCORE: TOLERANCE, …"))
    var failOnRegression: String?

    /// The gate; nil when none was asked for.
    func gate() throws -> RegressionGate? { try failOnRegression.map(RegressionGate.init(parsing:)) }

    func validate() throws {
        do { _ = try gate() } catch let error as ActionableError { throw ValidationError(error.description) }
    }
}
