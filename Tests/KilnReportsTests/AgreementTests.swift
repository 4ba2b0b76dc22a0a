import KilnModel
import Testing

@testable import KilnReports

/// Reference values computed with SciPy 1.17 (pearsonr, spearmanr, kendalltau, which is tau-b) and NumPy.
@Suite struct JudgeHumanAgreement {
    static let judge = [4.2, 3.0, 5.0, 2.0, 4.0, 4.0, 1.5, 3.0]
    static let human = [5.0, 3, 4, 2, 4, 5, 1, 2]

    @Test func matchesReferenceStatisticsWithTies() throws {
        let agreement = try #require(Agreement(judge: Self.judge, human: Self.human, type: .fiveStar))
        #expect(agreement.count == 8)
        #expect(abs(agreement.meanAbsoluteError - 0.5375) < 1e-12)
        #expect(abs(agreement.meanSquaredError - 0.48625) < 1e-12)
        #expect(abs(agreement.normalizedMeanAbsoluteError - 0.134375) < 1e-12)
        #expect(abs(agreement.normalizedMeanSquaredError - 0.030390625) < 1e-12)
        #expect(abs((agreement.pearson ?? 0) - 0.8711436597551517) < 1e-12)
        #expect(abs((agreement.spearman ?? 0) - 0.8527767846890929) < 1e-12)
        #expect(abs((agreement.kendall ?? 0) - 0.7452413135250994) < 1e-12)
    }

    @Test func tiesShareTheirAverageRank() {
        #expect(Agreement.ranks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2])
    }

    @Test func noVarianceMeansNoCorrelationAndFewerThanTwoPairsNoAgreement() throws {
        let flat = try #require(Agreement(judge: [1, 1, 1], human: [0, 1, 0], type: .passFail))
        #expect(flat.pearson == nil && flat.spearman == nil && flat.kendall == nil)
        #expect(abs(flat.meanAbsoluteError - 2.0 / 3) < 1e-12)
        #expect(Agreement(judge: [1], human: [1], type: .passFail) == nil)
    }

    @Test(arguments: [
        (ScoreType.fiveStar, 5.0, 1.0), (.fiveStar, 1, 0), (.passFailCritical, -1, 0), (.passFailCritical, 0, 0.5),
    ])
    func scalesScoresToZeroOne(type: ScoreType, value: Double, expected: Double) {
        #expect(Agreement.normalized(value, type) == expected)
    }
}
