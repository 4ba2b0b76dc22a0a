import KilnBasics
import KilnModel
import Yams

extension StageReader {
    static let chunkerKeys = ["type", "size", "overlap"]
    static let embeddingKeys = ["provider", "model", "batch_size"]

    mutating func readIngest() -> IngestSettings? {
        let pathsNode = require("paths", example: "[\"docs/**/*.pdf\", notes/]")
        let paths = reader.strings(pathsNode, "paths") ?? []
        for path in paths where !GlobMatcher.hasMatches(path.value, base: builder.baseDirectory) {
            reader.warning(
                at: path.node, "'\(path.value)' matches no file yet",
                hint: "paths are relative to the pipeline file's folder, \(builder.baseDirectory)")
        }
        let maxFileMB = reader.double(fields["max_file_mb"], "max_file_mb", above: 0)
        let maxPages = reader.int(fields["max_pages"], "max_pages", in: 1...Int.max)
        let chunker = readChunker(fields["chunker"])
        let extraction = provider(fields["extraction_provider"], "extraction_provider")
        let encoding: TextEncoding? = fields["encoding"].flatMap { reader.choice($0, "encoding") }
        let followSymlinks = reader.bool(fields["follow_symlinks"], "follow_symlinks")
        guard !paths.isEmpty, let chunker else { return nil }
        return IngestSettings(
            paths: paths.map(\.value), maxFileMB: maxFileMB ?? 50, maxPages: maxPages ?? 2000, chunker: chunker,
            extractionProvider: extraction, encoding: encoding ?? .auto, followSymlinks: followSymlinks ?? false)
    }

    private func readChunker(_ node: Node?) -> ChunkerSettings? {
        guard let node else { return ChunkerSettings() }
        guard let fields = reader.fields(node, context: "the chunker of \(label)", allowed: Self.chunkerKeys) else {
            return nil
        }
        let kind: ChunkerKind? = reader.choice(fields["type"], "chunker type")
        let size = reader.int(fields["size"], "size", in: 16...100_000)
        let overlap = reader.int(fields["overlap"], "overlap", in: 0...100_000)
        let defaults = ChunkerSettings()
        if let overlap, overlap >= size ?? defaults.size {
            reader.error(
                at: fields["overlap"],
                "chunk overlap (\(overlap)) must be smaller than the chunk size (\(size ?? defaults.size))",
                hint: "Kiln's default is size 512 with overlap 64")
            return nil
        }
        guard fields.has("type") == (kind != nil) else { return nil }
        return ChunkerSettings(
            kind: kind ?? defaults.kind, size: size ?? defaults.size, overlap: overlap ?? defaults.overlap)
    }

    mutating func readIndex() -> IndexSettings? {
        var embeddings: EmbeddingSettings?
        if let node = fields["embeddings"] {
            guard let read = readEmbeddings(node) else { return nil }
            embeddings = read
        }
        return IndexSettings(path: reader.string(fields["path"], "path"), embeddings: embeddings)
    }

    /// `embeddings:` — a provider name, or `{provider, model, batch_size}`.
    mutating func readEmbeddings(_ node: Node) -> EmbeddingSettings? {
        if case .scalar = node {
            return provider(node, "embeddings").map { EmbeddingSettings(provider: $0) }
        }
        guard
            let fields = reader.fields(
                node, context: "the embeddings of \(label)", allowed: Self.embeddingKeys, required: ["provider"]),
            let name = provider(fields["provider"], "provider")
        else { return nil }
        let batchSize = reader.int(fields["batch_size"], "batch_size", in: 1...2048)
        return EmbeddingSettings(
            provider: name, model: reader.string(fields["model"], "model"), batchSize: batchSize ?? 64)
    }

    mutating func readQna() -> QnaSettings? {
        let provider = provider(require("provider", example: "my-provider"), "provider")
        let perChunk = reader.int(fields["per_chunk"], "per_chunk", in: 1...50)
        guard let provider else { return nil }
        return QnaSettings(
            provider: provider, perChunk: perChunk ?? 2, guidance: reader.string(fields["guidance"], "guidance"))
    }
}
