import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import KilnStore

/// LLM extraction, Kiln's way of reading what has no text layer: a scanned PDF page (rendered to PNG) or an image
/// file goes to a vision model with a transcription prompt. Each page is checkpointed by the image's hash, the
/// prompt and the model, so a rerun or a crash never pays for a page twice.
struct PageTranscriber: Sendable {
    static let promptVersion = "transcribe-1"
    static let system = "You transcribe documents. You output only the text you see, never commentary."
    static let instruction = """
        Transcribe all text on this page exactly as written, in reading order. Use Markdown for structure: # for \
        headings, - for list items, | tables |. Output only the transcription. If the page has no text, output nothing.
        """

    let access: CallAccess
    var provider: ProviderConfig? { access.provider }

    enum Outcome: Sendable {
        case text(String, computed: Bool, usage: Usage, requests: Int)
        case failed(String, usage: Usage, requests: Int)
        /// Offline and not in the store.
        case missing
    }

    /// What of the transcription setup changes an answer: part of the document keys.
    var fingerprint: JSONValue {
        .object(
            JSONObject([("prompt_version", .string(Self.promptVersion)), ("model", ModelFingerprint.json(provider))]))
    }

    func request(for image: ChatImage) -> ChatRequest {
        ChatRequest(messages: [
            .system(Self.system), ChatMessage(role: "user", content: Self.instruction, images: [image]),
        ])
    }

    func transcribe(_ image: ChatImage) async throws(RunStop) -> Outcome {
        let key = CheckpointKey.make(
            JSONObject([
                ("stage_type", .string("transcription")), ("setup", fingerprint),
                ("image", .string(SHA256.hex(image.base64))),
            ]))
        if access.mode.useCache || access.mode.offline,
            let record = try? await access.store.records(forKeys: [key])[key], record.status == .done,
            let text = record.item?["text"]?.stringValue
        {
            return .text(text, computed: false, usage: Usage(), requests: 0)
        }
        guard !access.mode.offline, let entry = access.entry, let executor = access.executor else { return .missing }
        let outcome = try await executor.execute(request(for: image), on: entry) {
            response -> Result<String, ValidationFailure> in
            guard let choice = response.choices.first else {
                return .failure(ValidationFailure("the answer has no text"))
            }
            // A model that answers with a refusal or a fence around the text still gave the page: keep it as text.
            return .success(choice.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        switch outcome {
        case .succeeded(let text, _, let call, let attempts, let usage, let latency):
            try? await access.store.write([
                CheckpointRecord(
                    key: key, stage: access.stageID, status: .done,
                    item: .object(JSONObject([("text", .string(text))])), usage: usage,
                    latencyMS: latency, attempts: attempts, calls: [call])
            ])
            return .text(text, computed: true, usage: usage, requests: attempts)
        case .failed(let reason, let attempts, let usage):
            return .failed(reason, usage: usage, requests: attempts)
        }
    }
}
