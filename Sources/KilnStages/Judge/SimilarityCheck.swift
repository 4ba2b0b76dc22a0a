import Foundation
import KilnBasics
import KilnModel

/// The `similar` assertion: the cosine similarity of the output's embedding to the reference's (the assertion's
/// `value`, else the item's `expected`), passing at its threshold. Both vectors come through the embeddings
/// provider, each cached in the store by model and text, so a rerun (or the same reference twice) costs nothing.
enum SimilarityCheck {
    enum Result {
        /// `similarity` is nil when there was nothing to compare (no reference): the assertion fails, saying so.
        case measured(similarity: Double?, AssertionCheck.Outcome, usage: Usage, requests: Int)
        /// The embeddings could not be had (a refused call, none stored offline): the item fails, never scores 0.
        case failed(String, usage: Usage, requests: Int)
        case stopped(RunStop)
    }

    static func measure(_ assertion: Assertion, item: PipelineItem, embedder: EmbeddingClient) async -> Result {
        let output = item.fields["output"].map { $0.stringValue ?? $0.serialized() } ?? ""
        let reference = assertion.value ?? item.fields["expected"].map { $0.stringValue ?? $0.serialized() }
        guard let reference, !reference.isEmpty else {
            return .measured(
                similarity: nil,
                AssertionCheck.Outcome(
                    passed: false, reason: "no reference to compare with: set value or load an expected field"),
                usage: Usage(), requests: 0)
        }
        let batch: EmbeddingClient.Batch
        do { batch = try await embedder.vectors(for: [output, reference]) } catch { return .stopped(error) }
        switch batch {
        case .vectors(let vectors, _, let usage, let requests):
            guard vectors.count == 2 else {
                return .failed("the embeddings came back incomplete", usage: usage, requests: requests)
            }
            let similarity = cosine(vectors[0], vectors[1])
            let threshold = assertion.threshold ?? Assertion.defaultSimilarity
            let passed = similarity >= threshold
            let reason = passed ? nil : "similarity \(format(similarity)) is below \(format(threshold))"
            return .measured(
                similarity: similarity, AssertionCheck.Outcome(passed: passed, reason: reason), usage: usage,
                requests: requests)
        case .failed(let reason, let usage, let requests):
            return .failed("embeddings failed: \(reason)", usage: usage, requests: requests)
        case .missing(let count):
            return .failed(
                "\(count) embedding(s) not in the checkpoint store, and --offline makes no call", usage: Usage(),
                requests: 0)
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for index in a.indices {
            dot += Double(a[index]) * Double(b[index])
            normA += Double(a[index]) * Double(a[index])
            normB += Double(b[index]) * Double(b[index])
        }
        return normA > 0 && normB > 0 ? dot / (normA.squareRoot() * normB.squareRoot()) : 0
    }

    private static func format(_ value: Double) -> String { String(format: "%.3f", value) }
}
