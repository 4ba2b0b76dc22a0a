import KilnBasics
package import KilnModel
import KilnProviders
import KilnStore

/// Embeds texts through a provider with the engine's limiter, retries and budget, caching each text's vector in
/// the checkpoint store (keyed by model and text), so re-indexing a changed document embeds only its new chunks
/// and a repeated search query is free.
package struct EmbeddingClient: Sendable {
    let settings: EmbeddingSettings
    let access: CallAccess
    var provider: ProviderConfig? { access.provider }

    package init(settings: EmbeddingSettings, access: CallAccess) {
        self.settings = settings
        self.access = access
    }

    /// What a batch came to.
    package enum Batch: Sendable {
        case vectors([[Float]], computed: Int, usage: Usage, requests: Int)
        case failed(String, usage: Usage, requests: Int)
        /// Offline: this many texts have no stored vector.
        case missing(Int)
    }

    /// The model the vectors come from: the stage's override or the provider's model.
    var model: String { settings.model ?? provider?.model ?? "" }

    /// The name stored with an index's vectors: vectors of different models never mix.
    var modelIdentity: String { "\(provider?.kind.rawValue ?? ""):\(model)" }

    func key(for text: String) -> String {
        var model = JSONObject()
        model["kind"] = .string(provider?.kind.rawValue ?? "")
        model["model"] = .string(self.model)
        return CheckpointKey.make(
            JSONObject([
                ("stage_type", .string("embedding")), ("model", .object(model)), ("text", .string(SHA256.hex(text))),
            ]))
    }

    /// Vectors for `texts` in order: stored ones served, the rest requested in one call.
    package func vectors(for texts: [String]) async throws(RunStop) -> Batch {
        let keys = texts.map(key(for:))
        var found: [String: CheckpointRecord] = [:]
        if access.mode.useCache || access.mode.offline {
            found = (try? await access.store.records(forKeys: keys)) ?? [:]
        }
        var vectors = keys.map { found[$0]?.item.flatMap(Self.vector) }
        let missing = vectors.indices.filter { vectors[$0] == nil }
        guard !missing.isEmpty else {
            return .vectors(vectors.compactMap { $0 }, computed: 0, usage: Usage(), requests: 0)
        }
        guard !access.mode.offline else { return .missing(missing.count) }
        guard let entry = access.entry, let executor = access.executor else { return .missing(missing.count) }
        switch try await executor.embed(missing.map { texts[$0] }, model: settings.model, on: entry) {
        case .succeeded(let computed, _, let call, let attempts, let usage, let latency):
            var records: [CheckpointRecord] = []
            for (position, index) in missing.enumerated() {
                vectors[index] = computed[position]
                records.append(
                    CheckpointRecord(
                        key: keys[index], stage: access.stageID, status: .done,
                        item: .array(computed[position].map { .double(Double($0)) }),
                        // The call and its usage are recorded once, with the batch's first text.
                        usage: position == 0 ? usage : Usage(), latencyMS: latency, attempts: attempts,
                        calls: position == 0 ? [call] : []))
            }
            try? await access.store.write(records)
            return .vectors(vectors.compactMap { $0 }, computed: missing.count, usage: usage, requests: attempts)
        case .failed(let reason, let attempts, let usage):
            return .failed(reason, usage: usage, requests: attempts)
        }
    }

    static func vector(_ value: JSONValue) -> [Float]? {
        guard let array = value.arrayValue else { return nil }
        let floats = array.compactMap { $0.numberValue.map(Float.init) }
        return floats.count == array.count && !floats.isEmpty ? floats : nil
    }
}
