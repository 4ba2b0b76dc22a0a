import Foundation
import KilnBasics
import KilnIngest
import KilnModel
import KilnProviders
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
    /// LLM extraction of pages without text (scanned PDFs, images); nil when `extraction_provider` is not set.
    let transcriber: PageTranscriber?

    /// A file's outcome.
    enum Outcome: Sendable {
        case document(path: String, contentHash: String, ExtractedChunks, cached: Bool, usage: Usage, requests: Int)
        case failed(path: String, reason: String, usage: Usage, requests: Int)
        /// Offline and not in the store.
        case missing(path: String)
        /// A provider stopped the run (rejected key, quota, budget, Ctrl-C) while transcribing.
        case stopped(RunStop)
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
    /// `badNames`: entries whose names are not UTF-8 or hold a line break, as shown in messages (never opened).
    func files() -> (files: [String], badNames: [String]) {
        var seen = Set<String>()
        var result: [String] = []
        var badNames: [String] = []
        for pattern in settings.paths {
            let named = !pattern.contains { "*?[".contains($0) } && !isDirectory(pattern)
            let walk = GlobMatcher.walk(matching: pattern, base: baseDirectory)
            badNames += walk.badNames.filter { seen.insert($0).inserted }
            for path in walk.files {
                let name = URL(fileURLWithPath: path).lastPathComponent
                let format = DocumentFormat(path: path)
                // Images are read only with LLM extraction; through a folder they are skipped without it.
                let readable = format != nil && (format != .image || transcriber != nil)
                guard named || (readable && !name.hasPrefix(".")) else { continue }
                if seen.insert(path).inserted { result.append(path) }
            }
        }
        return (result, badNames)
    }

    private func isDirectory(_ pattern: String) -> Bool {
        var directory: ObjCBool = false
        let path = pattern.hasPrefix("/") ? pattern : baseDirectory + "/" + pattern
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The document's path as shown and used as its id: relative to the pipeline file's folder (`../` where
    /// needed), so ids do not depend on where the project is checked out.
    func relativePath(_ path: String) -> String { RelativePath.of(path, from: baseDirectory) }

    /// What every document's key shares: the extraction and chunking rules and settings (not the path: the same
    /// bytes under two names are extracted once).
    var configHash: String {
        var components = JSONObject([
            ("stage_type", .string(StageType.ingest.rawValue)), ("extractor", .string(DocumentExtractor.version)),
            ("chunker", .string(Chunker.version)), ("chunker_type", .string(settings.chunker.kind.rawValue)),
            ("size", .integer(settings.chunker.size)), ("overlap", .integer(settings.chunker.overlap)),
            ("max_file_mb", .double(settings.maxFileMB)), ("max_pages", .integer(settings.maxPages)),
        ])
        if let transcriber { components["transcription"] = transcriber.fingerprint }
        if settings.encoding != .auto { components["encoding"] = .string(settings.encoding.rawValue) }
        return CheckpointKey.make(components)
    }

    /// How a document is read: its limits and its text encoding.
    var options: ExtractionOptions {
        ExtractionOptions(
            maxBytes: Int(settings.maxFileMB * 1_048_576), maxPages: settings.maxPages, encoding: settings.encoding)
    }

    /// The real folders the stage's paths name (their part before the first wildcard), or the named file itself:
    /// a symbolic link that resolves outside all of them is refused unless `follow_symlinks` is set.
    var roots: [String] {
        settings.paths.map { pattern in
            let absolute = pattern.hasPrefix("/") ? pattern : baseDirectory + "/" + pattern
            let literal = absolute.split(separator: "/", omittingEmptySubsequences: false).prefix {
                !$0.contains { "*?[".contains($0) }
            }.joined(separator: "/")
            return URL(fileURLWithPath: literal.isEmpty ? "/" : literal).resolvingSymlinksInPath().path
        }
    }

    /// Why a file is not read at all, before a byte of it is: a link out of the ingest folders, a special file,
    /// a file over `max_file_mb`.
    func refusal(of path: String, roots: [String]) -> String? {
        if !settings.followSymlinks {
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if !roots.contains(where: { real == $0 || real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
                return "a symbolic link to \(real), outside the folders the stage reads: refused (set "
                    + "follow_symlinks: true on stage '\(stageID)' to read it)"
            }
        }
        do {
            _ = try DocumentExtractor.admit(path: path, options: options)
        } catch {
            return error.message
        }
        return nil
    }

    func process(_ path: String, roots: [String]) async -> Outcome {
        if let refusal = refusal(of: path, roots: roots) {
            return .failed(path: path, reason: refusal, usage: Usage(), requests: 0)
        }
        guard let contentHash = await BlockingWork.run({ SHA256.hex(ofFileAt: path) }) else {
            return .failed(path: path, reason: "cannot read the file", usage: Usage(), requests: 0)
        }
        // The format is part of the key: the same bytes named a.pdf and b.docx are two documents.
        let key = CheckpointKey.make(
            JSONObject([
                ("config", .string(configHash)), ("content", .string(contentHash)),
                ("format", .string(DocumentFormat(path: path)?.rawValue ?? "")),
            ]))
        if mode.useCache || mode.offline, let record = try? await store.records(forKeys: [key])[key] {
            if record.status == .done, let item = record.item, let extracted = Self.decode(item) {
                return .document(
                    path: path, contentHash: contentHash, extracted, cached: true, usage: Usage(), requests: 0)
            }
        }
        if mode.offline { return .missing(path: path) }
        let options = options
        let extraction = await BlockingWork.run { () -> Result<ExtractedDocument, ExtractionError> in
            Result { () throws(ExtractionError) -> ExtractedDocument in
                try DocumentExtractor.extract(path: path, options: options)
            }
        }
        var document: ExtractedDocument
        switch extraction {
        case .success(let extracted): document = extracted
        // Not checkpointed: reading a broken file again costs nothing, and a rerun then really retries it.
        case .failure(let error): return .failed(path: path, reason: error.message, usage: Usage(), requests: 0)
        }
        var usage = Usage()
        var requests = 0
        if !document.pagesWithoutText.isEmpty {
            if let transcriber {
                switch await transcribe(&document, path: path, with: transcriber) {
                case .success(let spent):
                    usage = spent.usage
                    requests = spent.requests
                case .failure(let early):
                    return early.outcome
                }
            } else if document.format == .image {
                return .failed(
                    path: path,
                    reason:
                        "an image has no text layer: set extraction_provider on stage '\(stageID)' to a vision "
                        + "model's provider to transcribe it",
                    usage: Usage(), requests: 0)
            }
        }
        let chunker = Chunker(settings: settings.chunker)
        let extracted = await BlockingWork.run { [document] in
            ExtractedChunks(
                format: document.format.rawValue, pages: document.pageCount, warnings: document.warnings,
                chunks: chunker.chunks(of: document))
        }
        try? await store.write([
            CheckpointRecord(key: key, stage: stageID, status: .done, item: Self.encode(extracted), usage: usage)
        ])
        return .document(
            path: path, contentHash: contentHash, extracted, cached: false, usage: usage, requests: requests)
    }

    /// Cost of a document's transcription.
    struct Spent {
        var usage = Usage()
        var requests = 0
    }

    /// Replaces the pages without text by their transcription, page by page; the early outcome when one fails.
    private func transcribe(
        _ document: inout ExtractedDocument, path: String, with transcriber: PageTranscriber
    ) async
        -> Result<Spent, EarlyOutcome>
    {
        var spent = Spent()
        for page in document.pagesWithoutText {
            let image: Result<ChatImage, ExtractionError>
            if document.format == .image {
                let mediaType = DocumentFormat.imageMediaType(path: path)
                image = await BlockingWork.run {
                    Result { () throws(ExtractionError) -> ChatImage in
                        guard let data = FileManager.default.contents(atPath: path) else {
                            throw ExtractionError("cannot read the image")
                        }
                        return ChatImage(mediaType: mediaType, bytes: [UInt8](data))
                    }
                }
            } else {
                image = await BlockingWork.run {
                    Result { () throws(ExtractionError) -> ChatImage in
                        ChatImage(mediaType: "image/png", bytes: try PDFPageRenderer.png(path: path, page: page))
                    }
                }
            }
            let outcome: PageTranscriber.Outcome
            do throws(RunStop) {
                switch image {
                case .success(let image): outcome = try await transcriber.transcribe(image)
                case .failure(let error):
                    return .failure(
                        EarlyOutcome(
                            .failed(
                                path: path, reason: "page \(page): \(error.message)", usage: spent.usage,
                                requests: spent.requests)))
                }
            } catch {
                return .failure(EarlyOutcome(.stopped(error)))
            }
            switch outcome {
            case .text(let text, _, let usage, let requests):
                spent.usage += usage
                spent.requests += requests
                document.sections.append(DocumentSection(text: text, page: document.format == .pdf ? page : nil))
            case .failed(let reason, let usage, let requests):
                let place =
                    document.format == .pdf
                    ? "page \(page) could not be transcribed: " : "the image could not be transcribed: "
                return .failure(
                    EarlyOutcome(
                        .failed(
                            path: path, reason: place + reason, usage: spent.usage + usage,
                            requests: spent.requests + requests)))
            case .missing:
                return .failure(EarlyOutcome(.missing(path: path)))
            }
        }
        document.sections = document.sections.filter { !$0.text.allSatisfy(\.isWhitespace) }.sorted {
            ($0.page ?? 0) < ($1.page ?? 0)
        }
        let count = document.pagesWithoutText.count
        document.warnings = [
            document.format == .image
                ? "transcribed by provider '\(transcriber.provider?.name ?? "")'"
                : "\(count) page\(count == 1 ? "" : "s") without text transcribed by provider "
                    + "'\(transcriber.provider?.name ?? "")' "
                    + "(\(ExtractedDocument.describe(pages: document.pagesWithoutText)))"
        ]
        return .success(spent)
    }

    /// An outcome decided before the document was chunked.
    struct EarlyOutcome: Error {
        var outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }
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
                                    ("text", .string(chunk.text)), ("start", .integer(chunk.start)),
                                    ("end", .integer(chunk.end)),
                                    ("page", chunk.page.map(JSONValue.integer) ?? .null),
                                    ("headings", .array(chunk.headings.map(JSONValue.string))),
                                    ("tokens", .integer(chunk.tokens)),
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
                    index: index, text: chunk["text"]?.stringValue ?? "",
                    start: chunk["start"]?.numberValue.map { Int($0) } ?? 0,
                    end: chunk["end"]?.numberValue.map { Int($0) } ?? 0,
                    page: chunk["page"]?.numberValue.map { Int($0) },
                    headings: chunk["headings"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    tokens: chunk["tokens"]?.numberValue.map { Int($0) } ?? 0)
            })
    }
}

extension IngestStage: Stage {
    /// Extracts the documents, in path order, several at once; emits their chunks (a shard keeps its documents).
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        var stopReason: RunStop?
        var (files, badNames) = files()
        let shard = run.options.shard
        for name in badNames where shard?.contains(relativePath(name)) ?? true {
            report.fail(
                "\(relativePath(name)): the file name is not UTF-8 text or holds a line break, so it cannot be named "
                    + "in results or searches; not read (rename it)")
        }
        if let shard {
            let all = files.count
            files.removeAll { !shard.contains(relativePath($0)) }
            report.otherShards = all - files.count
        }
        if files.isEmpty {
            report.note("no file matches \(settings.paths.joined(separator: ", ")) below \(baseDirectory)")
        }
        var next = 0
        let roots = roots
        try await forEachOrdered(
            {
                defer { next += 1 }
                return next < files.count ? files[next] : nil
            }, concurrency: ProcessInfo.processInfo.activeProcessorCount,
            transform: { await process($0, roots: roots) },
            emit: { outcome in
                switch outcome {
                case .document(let path, let contentHash, let extracted, let cached, let usage, let requests):
                    if cached { report.cached += 1 } else { report.computed += 1 }
                    report.usage += usage
                    report.requests += requests
                    for warning in extracted.warnings { report.note("\(relativePath(path)): warning: \(warning)") }
                    for item in items(path: path, contentHash: contentHash, extracted) {
                        try await emit(item)
                        report.items += 1
                    }
                case .failed(let path, let reason, let usage, let requests):
                    report.usage += usage
                    report.requests += requests
                    report.fail("\(relativePath(path)): \(reason)")
                case .missing:
                    if report.pending == 0 { report.note("documents not extracted yet") }
                    report.pending += 1
                case .stopped(let reason):
                    if stopReason == nil { stopReason = reason }
                    run.shared.stop.set()
                }
                await run.publish(report)
            }, shouldStop: run.shouldStop)
        if let shard {
            report.note("shard \(shard): \(files.count) documents here, \(report.otherShards) in the other shards")
        }
        return stopReason
    }
}
