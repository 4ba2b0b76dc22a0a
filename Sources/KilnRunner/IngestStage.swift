import Foundation
import KilnBasics
import KilnIngest
import KilnModel
import KilnStore

/// `ingest`: files under the stage's paths, extracted and chunked, one item per chunk. Each document is keyed by
/// its content hash and the extraction settings, so an unchanged file is never read again and a changed one
/// re-extracts only itself. A file that cannot be read is a failed document with its reason (tried again on the
/// next run), never a stopped run.
struct IngestStage: Sendable {
    let stageID: String
    let settings: IngestSettings
    let baseDirectory: String
    let store: any CheckpointStore
    let mode: CacheMode

    /// A file's outcome.
    enum Outcome: Sendable {
        case document(path: String, contentHash: String, ExtractedChunks, cached: Bool)
        case failed(path: String, reason: String)
        /// Offline and not in the store.
        case missing(path: String)
    }

    /// What extraction keeps of a document: its chunks and what the user should know.
    struct ExtractedChunks: Sendable {
        var format: String
        var pages: Int?
        var warnings: [String]
        var chunks: [DocumentChunk]
    }

    /// The readable files the paths name, as absolute paths, each once, in the order given (sorted per pattern).
    /// Files of other types found through a folder or wildcard are left out; one named outright is kept (and fails).
    func files() -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for pattern in settings.paths {
            let named = !pattern.contains { "*?[".contains($0) } && !isDirectory(pattern)
            for path in GlobMatcher.files(matching: pattern, base: baseDirectory) {
                let name = URL(fileURLWithPath: path).lastPathComponent
                guard named || (DocumentFormat(path: path) != nil && !name.hasPrefix(".")) else { continue }
                if seen.insert(path).inserted { result.append(path) }
            }
        }
        return result
    }

    private func isDirectory(_ pattern: String) -> Bool {
        var directory: ObjCBool = false
        let path = pattern.hasPrefix("/") ? pattern : baseDirectory + "/" + pattern
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The document's path as shown and used as its id: relative to the pipeline file's folder (`../` where
    /// needed), so ids do not depend on where the project is checked out.
    func relativePath(_ path: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: baseDirectory).standardizedFileURL.pathComponents
        let shared = zip(target, base).prefix { $0 == $1 }.count
        guard shared > 1 else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return (Array(repeating: "..", count: base.count - shared) + target[shared...]).joined(separator: "/")
    }

    /// What every document's key shares: the extraction and chunking rules and settings (not the path: the same
    /// bytes under two names are extracted once).
    var configHash: String {
        CheckpointKey.make(
            JSONObject([
                ("stage_type", .string(StageType.ingest.rawValue)), ("extractor", .string(DocumentExtractor.version)),
                ("chunker", .string(Chunker.version)), ("chunker_type", .string(settings.chunker.kind.rawValue)),
                ("size", .integer(settings.chunker.size)), ("overlap", .integer(settings.chunker.overlap)),
                ("max_file_mb", .double(settings.maxFileMB)), ("max_pages", .integer(settings.maxPages)),
            ]))
    }

    func process(_ path: String) async -> Outcome {
        guard let contentHash = await BlockingWork.run({ SHA256.hex(ofFileAt: path) }) else {
            return .failed(path: path, reason: "cannot read the file")
        }
        let key = CheckpointKey.make(JSONObject([("config", .string(configHash)), ("content", .string(contentHash))]))
        if mode.useCache || mode.offline, let record = try? await store.records(forKeys: [key])[key] {
            if record.status == .done, let item = record.item, let extracted = Self.decode(item) {
                return .document(path: path, contentHash: contentHash, extracted, cached: true)
            }
        }
        if mode.offline { return .missing(path: path) }
        let limits = ExtractionLimits(maxBytes: Int(settings.maxFileMB * 1_048_576), maxPages: settings.maxPages)
        let chunker = Chunker(settings: settings.chunker)
        let result = await BlockingWork.run { () -> Result<ExtractedChunks, ExtractionError> in
            Result { () throws(ExtractionError) -> ExtractedChunks in
                let document = try DocumentExtractor.extract(path: path, limits: limits)
                return ExtractedChunks(
                    format: document.format.rawValue, pages: document.pageCount, warnings: document.warnings,
                    chunks: chunker.chunks(of: document))
            }
        }
        switch result {
        case .success(let extracted):
            try? await store.write([CheckpointRecord(key: key, stage: stageID, status: .done, item: Self.encode(extracted))])
            return .document(path: path, contentHash: contentHash, extracted, cached: false)
        case .failure(let error):
            // Not checkpointed: reading a broken file again costs nothing, and a rerun then really retries it.
            return .failed(path: path, reason: error.message)
        }
    }

    /// The items of one document: one per chunk.
    func items(path: String, contentHash: String, _ extracted: ExtractedChunks) -> [PipelineItem] {
        let relative = relativePath(path)
        let name = URL(fileURLWithPath: path).lastPathComponent
        return extracted.chunks.map { chunk in
            var fields = JSONObject()
            fields["document_id"] = .string(relative)
            fields["name"] = .string(name)
            fields["format"] = .string(extracted.format)
            fields["content_hash"] = .string(contentHash)
            fields["config_hash"] = .string(configHash)
            if let pages = extracted.pages { fields["pages"] = .integer(pages) }
            fields["chunk_idx"] = .integer(chunk.index)
            fields["chunk_count"] = .integer(extracted.chunks.count)
            fields["text"] = .string(chunk.text)
            fields["page"] = chunk.page.map(JSONValue.integer) ?? .null
            fields["headings"] = .array(chunk.headings.map(JSONValue.string))
            fields["start"] = .integer(chunk.start)
            fields["end"] = .integer(chunk.end)
            fields["tokens"] = .integer(chunk.tokens)
            return PipelineItem(id: "\(relative)#\(chunk.index)", fields: fields)
        }
    }

    static func encode(_ extracted: ExtractedChunks) -> JSONValue {
        .object(
            JSONObject([
                ("format", .string(extracted.format)), ("pages", extracted.pages.map(JSONValue.integer) ?? .null),
                ("warnings", .array(extracted.warnings.map(JSONValue.string))),
                (
                    "chunks",
                    .array(
                        extracted.chunks.map { chunk in
                            .object(
                                JSONObject([
                                    ("text", .string(chunk.text)), ("start", .integer(chunk.start)), ("end", .integer(chunk.end)),
                                    ("page", chunk.page.map(JSONValue.integer) ?? .null),
                                    ("headings", .array(chunk.headings.map(JSONValue.string))), ("tokens", .integer(chunk.tokens)),
                                ]))
                        })
                ),
            ]))
    }

    static func decode(_ value: JSONValue) -> ExtractedChunks? {
        guard let format = value["format"]?.stringValue, let chunks = value["chunks"]?.arrayValue else { return nil }
        return ExtractedChunks(
            format: format, pages: value["pages"]?.numberValue.map { Int($0) },
            warnings: value["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            chunks: chunks.enumerated().map { index, chunk in
                DocumentChunk(
                    index: index, text: chunk["text"]?.stringValue ?? "", start: chunk["start"]?.numberValue.map { Int($0) } ?? 0,
                    end: chunk["end"]?.numberValue.map { Int($0) } ?? 0, page: chunk["page"]?.numberValue.map { Int($0) },
                    headings: chunk["headings"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    tokens: chunk["tokens"]?.numberValue.map { Int($0) } ?? 0)
            })
    }
}
