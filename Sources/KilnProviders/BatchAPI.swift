import Foundation
import KilnBasics

/// A provider's batch API (OpenAI Batch, Anthropic Message Batches): many requests submitted at once, answered
/// within a day at a lower price. Like `LLMProvider`, it never retries, sleeps or caches: the engine's batch
/// coordinator persists submissions, polls and falls back to live calls.
package protocol BatchAPI: Sendable {
    /// Submits `requests`, each under its hash as custom id, tagged with `key` where the API keeps tags.
    func submit(_ requests: [RequestBody], key: String) async throws(ProviderError) -> ProviderBatch
    /// The batch's state now.
    func refresh(_ id: String) async throws(ProviderError) -> ProviderBatch
    /// The answers of an ended batch by custom id, each as the response a live call would have had (or the
    /// error it stands for); a request the provider never answered is absent.
    func results(of batch: ProviderBatch) async throws(ProviderError) -> [String: Result<HTTPResponse, ProviderError>]
    /// The batch a submission of `requests` tagged `key`, saved at `savedAt` (seconds since 1970), became if the
    /// provider accepted it: for a run killed between saving a submission and hearing back.
    func find(key: String, requests: Int, savedAt: Double) async throws(ProviderError) -> ProviderBatch?
}

/// A batch as the provider reports it.
package struct ProviderBatch: Sendable, Hashable {
    package var id: String
    /// The provider's own word for its state.
    package var status: String
    /// No request of it will be processed any more: its results can be read.
    package var ended: Bool
    package var completed: Int
    package var failed: Int
    /// Why the whole batch failed, when it did (an input the provider could not read, say).
    package var problem: String?
    /// Where its answers are (OpenAI: the output and error files; Anthropic: the results URL).
    package var resultSources: [String]

    package init(
        id: String, status: String, ended: Bool, completed: Int = 0, failed: Int = 0, problem: String? = nil,
        resultSources: [String] = []
    ) {
        self.id = id
        self.status = status
        self.ended = ended
        self.completed = completed
        self.failed = failed
        self.problem = problem
        self.resultSources = resultSources
    }
}

extension LLMProvider {
    /// The provider's batch API, when its kind has one.
    package var batchAPI: (any BatchAPI)? { self as? any BatchAPI }
}

extension JSONValue {
    /// The lines of a JSONL document that parse; blank lines are skipped.
    static func lines(of data: Data) -> [JSONValue] {
        String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
            line.allSatisfy(\.isWhitespace) ? nil : try? JSONValue(parsing: String(line))
        }
    }

    /// An integer field, 0 when absent.
    func count(_ name: String) -> Int { self[name]?.numberValue.map { Int($0) } ?? 0 }
}
