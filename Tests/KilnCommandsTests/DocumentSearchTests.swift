import Foundation
import Testing

/// ingest → index → search end to end through the binary: a folder of mixed documents with broken ones, the
/// labelled queries that must find their document, incremental re-indexing, and vector / hybrid search through
/// the fake provider's embeddings.
@Suite(.serialized) struct DocumentSearch {
    static let fixtures = KilnPipeBinary.repositoryRoot.appendingPathComponent("Tests/KilnIngestTests/Fixtures")

    /// Notes a studio might keep, one topic per file.
    static let notes: [String: String] = [
        "kiln-care.md":
            "# Kiln care\n\nPaint kiln wash on the shelves so glaze drips do not stick.\n\nReplace worn "
            + "elements when firings get slow.",
        "pricing.md":
            "# Pricing\n\nPrice each mug by clay, glaze, firing cost and your time.\n\nWholesale buyers pay "
            + "half the retail price.",
        "drying.md":
            "# Drying\n\nDry plates slowly under plastic so they do not warp.\n\nHandles dry faster than the "
            + "body and can crack off.",
        "reclaim.txt":
            "Reclaiming clay: soak the scraps in water, dry the slurry on plaster bats, then wedge it again.",
    ]

    /// Queries with the document they must find first.
    static let queries: [(String, String)] = [
        ("cobalt oxide deep blue", "corpus/report.pdf"),
        ("respirator when mixing glazes", "corpus/handbook.docx"),
        ("tenmoku iron rich", "corpus/messy.html"),
        ("when to trim leather hard pots", "corpus/guide.md"),
        ("kiln wash on shelves", "corpus/notes/kiln-care.md"),
        ("wholesale retail price", "corpus/notes/pricing.md"),
        ("plates warp while drying", "corpus/notes/drying.md"),
        ("reclaim clay scraps slurry plaster", "corpus/notes/reclaim.txt"),
    ]

    static let pipeline = """
        version: 1
        providers:
          embedder: {kind: fake, model: fake-embedding}
        stages:
          - {id: docs, type: ingest, paths: ["corpus/"], chunker: {type: semantic, size: 128}}
          - {id: idx, type: index, from: docs, embeddings: {provider: embedder, batch_size: 4}}
        """

    static func makeCorpus() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-docs-\(UUID().uuidString)")
        let corpus = directory.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(
            at: corpus.appendingPathComponent("notes"), withIntermediateDirectories: true)
        for name in [
            "report.pdf", "handbook.docx", "messy.html", "guide.md", "encrypted.pdf", "truncated.pdf", "broken.docx",
        ] {
            try FileManager.default.copyItem(
                at: fixtures.appendingPathComponent(name), to: corpus.appendingPathComponent(name))
        }
        for (name, text) in notes {
            try text.write(to: corpus.appendingPathComponent("notes/\(name)"), atomically: true, encoding: .utf8)
        }
        try pipeline.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        return directory
    }

    static func top(_ query: String, mode: String, in directory: URL) throws -> [[String: Any]] {
        let outcome = try KilnPipeBinary.run(["search", "p.yml", query, "--mode", mode, "--json"], in: directory)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
    }

    @Test func mixedFolderIndexesTheGoodDocumentsReportsTheBrokenOnesAndFindsTheRightOnes() throws {
        let directory = try Self.makeCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        // Broken documents are failed items (exit 3), each with its reason; the rest is indexed.
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        for expected in [
            "corpus/encrypted.pdf: the PDF is encrypted", "corpus/truncated.pdf: the PDF is truncated",
            "corpus/broken.docx: not a DOCX file",
        ] {
            #expect(first.stdout.contains(expected), "\(first.stdout)")
        }
        #expect(first.stdout.contains("8 documents"), "\(first.stdout)")
        #expect(first.stdout.contains("8 added, 0 updated, 0 unchanged, 0 removed"), "\(first.stdout)")

        for mode in ["bm25", "hybrid", "vector"] {
            var right = 0
            for (query, document) in Self.queries {
                let hits = try Self.top(query, mode: mode, in: directory)
                if hits.first?["document_id"] as? String == document { right += 1 }
            }
            // Lexical search and the fake's bag-of-words embeddings both find every labelled document first.
            #expect(right == Self.queries.count, "\(mode): \(right) of \(Self.queries.count)")
        }
        let pdfHit = try #require(try Self.top("cobalt oxide", mode: "bm25", in: directory).first)
        #expect(pdfHit["page"] as? Int == 2)
        #expect((pdfHit["snippet"] as? String)?.contains("**Cobalt**") == true)

        // Unchanged tree: nothing re-extracted, nothing re-embedded, nothing rewritten.
        let second = try KilnPipeBinary.run(["index", "p.yml"], in: directory)
        #expect(second.status == 3)
        #expect(
            second.stdout.contains("0 added, 0 updated, 8 unchanged, 0 removed; vectors: 0 added, 0 newly embedded"),
            "\(second.stdout)")
        #expect(second.stdout.contains("docs   ingest  "), "\(second.stdout)")

        // One file edited, one deleted: only those change.
        try "# Pricing\n\nRaku pieces sell for more at fairs.".write(
            to: directory.appendingPathComponent("corpus/notes/pricing.md"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("corpus/notes/drying.md"))
        let third = try KilnPipeBinary.run(["index", "p.yml"], in: directory)
        #expect(
            third.stdout.contains("0 added, 1 updated, 6 unchanged, 1 removed; vectors: 1 added, 1 newly embedded"),
            "\(third.stdout)")
        #expect(
            try Self.top("plates warp drying", mode: "bm25", in: directory).allSatisfy {
                $0["document_id"] as? String != "corpus/notes/drying.md"
            })
        #expect(
            try Self.top("raku fairs", mode: "bm25", in: directory).first?["document_id"] as? String
                == "corpus/notes/pricing.md")
    }

    /// A Latin-1 note (what old Windows tools write) is searchable: read as Windows-1252 with a warning naming the
    /// file; `encoding: utf-8` refuses it instead, and `encoding: latin-1` reads it without a warning.
    @Test(arguments: [("", 0, true), (", encoding: latin-1", 0, false), (", encoding: utf-8", 3, false)])
    func textThatIsNotUTF8IsDecoded(_ setting: String, _ status: Int32, _ warns: Bool) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-enc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("corpus"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("Crème brûlée glaze: fire to cone six, café au lait colour.".data(using: .isoLatin1)!).write(
            to: directory.appendingPathComponent("corpus/old-notes.txt"))
        try """
        version: 1
        stages:
          - {id: docs, type: ingest, paths: ["corpus/"]\(setting)}
          - {id: idx, type: index, from: docs}
        """.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(run.status == status, "\(run.stdout)\(run.stderr)")
        #expect(
            run.stdout.contains(
                "corpus/old-notes.txt: warning: not UTF-8 (byte 0xE8 at offset 2): decoded as "
                    + "Windows-1252") == warns, "\(run.stdout)")
        guard status == 0 else {
            #expect(run.stdout.contains("corpus/old-notes.txt: the file is not UTF-8"), "\(run.stdout)")
            return
        }
        let hit = try #require(try Self.top("brûlée café", mode: "bm25", in: directory).first)
        #expect(hit["document_id"] as? String == "corpus/old-notes.txt")
        #expect((hit["snippet"] as? String)?.contains("Crème") == true, "\(hit)")
    }

    /// BM25 needs no model: without the embedding provider's key, search still answers (hybrid falls back to BM25
    /// with a note), and only --mode vector refuses, naming the variable.
    @Test func searchWithoutTheEmbeddingKeyFallsBackToBM25() throws {
        let directory = try Self.makeCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.pipeline.replacingOccurrences(
            of: "{kind: fake, model: fake-embedding}",
            with: "{kind: fake, model: fake-embedding, api_key_env: EMBED_KEY}"
        ).write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        _ = try KilnPipeBinary.run(["index", "p.yml"], in: directory, environment: ["EMBED_KEY": "k"])
        let hybrid = try KilnPipeBinary.run(["search", "p.yml", "tenmoku iron rich", "--json"], in: directory)
        #expect(hybrid.status == 0, "\(hybrid.stderr)")
        #expect(hybrid.stderr.contains("note: EMBED_KEY is not set"), "\(hybrid.stderr)")
        let hits = try #require(try JSONSerialization.jsonObject(with: Data(hybrid.stdout.utf8)) as? [[String: Any]])
        #expect(hits.first?["document_id"] as? String == "corpus/messy.html")
        let vector = try KilnPipeBinary.run(["search", "p.yml", "tenmoku", "--mode", "vector"], in: directory)
        #expect(vector.status == 2)
        #expect(
            vector.stderr.contains("--mode vector needs query embeddings: EMBED_KEY is not set"), "\(vector.stderr)")
    }

    @Test func theDemoCorpusAnswersItsQuestions() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-docs-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let statePath = state.appendingPathComponent("state.sqlite").path
        let built = try KilnPipeBinary.run(["index", "pipelines/docs.yml", "--state", statePath])
        #expect(built.status == 0, "\(built.stdout)\(built.stderr)")
        #expect(built.stdout.contains("13 chunks of 5 documents"), "\(built.stdout)")
        for (query, document) in [
            ("how long do returns take", "store-policies.pdf"), ("lost gift card", "gift-cards.md"),
            ("book club discount", "events.html"), ("gift wrapping paper", "staff-handbook.docx"),
            ("loyalty stamps voucher", "loyalty.txt"),
        ] {
            let outcome = try KilnPipeBinary.run([
                "search", "pipelines/docs.yml", query, "-k", "1", "--json", "--state", statePath,
            ])
            let hits = try #require(
                try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
            #expect(
                hits.first?["document_id"] as? String == "../datasets/docs/\(document)", "\(query): \(outcome.stdout)")
        }
    }

    /// The `stage_finished` event of `stage` in a `--json` run.
    static func finished(_ stage: String, in outcome: KilnPipeBinary.Outcome) throws -> [String: Any] {
        let events = KilnPipeBinary.jsonObjects(inLines: outcome.stdout)
        return try #require(
            events.last { $0["event"] as? String == "stage_finished" && $0["stage"] as? String == stage })
    }

    @Test func scannedPagesAndImagesAreTranscribedByTheExtractionProvider() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-scans-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("corpus"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["scanned.pdf", "page.png"] {
            try FileManager.default.copyItem(
                at: Self.fixtures.appendingPathComponent(name), to: directory.appendingPathComponent("corpus/\(name)"))
        }
        let stages = """
            stages:
              - {id: docs, type: ingest, paths: ["corpus/"], chunker: {type: semantic}EXTRA}
              - {id: idx, type: index, from: docs}
            """
        try
            ("version: 1\nproviders:\n  vision: {kind: fake, model: fake-vision}\n"
            + stages.replacingOccurrences(of: "EXTRA", with: ", extraction_provider: vision"))
            .write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        try ("version: 1\n" + stages.replacingOccurrences(of: "EXTRA", with: ""))
            .write(to: directory.appendingPathComponent("plain.yml"), atomically: true, encoding: .utf8)

        // With LLM extraction: page 2 of the scan and the image go to the vision model, once.
        let first = try KilnPipeBinary.run(["run", "p.yml", "--json"], in: directory)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try Self.finished("docs", in: first)["requests"] as? Int == 2)
        let chunks = try String(
            contentsOf: directory.appendingPathComponent(".kiln-pipe/out/p/docs.jsonl"), encoding: .utf8
        )
        .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let scanPages = chunks.filter { $0["document_id"] as? String == "corpus/scanned.pdf" }.map {
            ($0["page"] as? Int, $0["text"] as? String ?? "")
        }
        #expect(scanPages.first?.0 == 1 && scanPages.first?.1.contains("Typed cover page") == true, "\(scanPages)")
        #expect(scanPages.contains { $0.0 == 2 && $0.1.hasPrefix("Transcribed page") }, "\(scanPages)")
        #expect(
            chunks.contains {
                $0["document_id"] as? String == "corpus/page.png"
                    && ($0["text"] as? String)?.hasPrefix("Transcribed page") == true
            })
        let again = try KilnPipeBinary.run(["run", "p.yml", "--json"], in: directory)
        #expect(try Self.finished("docs", in: again)["requests"] as? Int == 0)
        #expect(try Self.finished("docs", in: again)["cached"] as? Int == 2)

        // Without it: the scan's text page is indexed with a warning, the image in the folder is skipped.
        let plain = try KilnPipeBinary.run(["run", "plain.yml"], in: directory)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("corpus/scanned.pdf: warning: 1 page without text (page 2)"), "\(plain.stdout)")
        #expect(plain.stdout.contains("1 chunks of 1 documents"), "\(plain.stdout)")
        // Named outright, an image without an extraction provider is a failed document that says what to set.
        try ("version: 1\nstages:\n  - {id: docs, type: ingest, paths: [corpus/page.png]}\n")
            .write(to: directory.appendingPathComponent("image.yml"), atomically: true, encoding: .utf8)
        let image = try KilnPipeBinary.run(["run", "image.yml"], in: directory)
        #expect(image.status == 3)
        #expect(
            image.stdout.contains("corpus/page.png: an image has no text layer: set extraction_provider"),
            "\(image.stdout)")
    }

    @Test func searchSaysWhatToDoWhenThereIsNoIndex() throws {
        let directory = try Self.makeCorpus()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try KilnPipeBinary.run(["search", "p.yml", "glaze"], in: directory)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("index 'idx' has not been built yet"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("kiln-pipe index p.yml"), "\(outcome.stderr)")
    }
}

/// Hostile documents (issue 23): each is one failed item with its reason — never a crash, a hang, a flood of
/// memory, or a file from outside the corpus in the index — and the rest of the folder is indexed.
@Suite(.serialized) struct HostileDocuments {
    /// Writes the hostile corpus with Python's zipfile (a DOCX is a zip).
    static let generator = #"""
        import os, sys, zipfile
        corpus = sys.argv[1]
        def docx(name, xml, compress=zipfile.ZIP_DEFLATED):
            with zipfile.ZipFile(os.path.join(corpus, name), "w", compress) as z:
                z.writestr("[Content_Types].xml", "<Types/>")
                if callable(xml):
                    with z.open("word/document.xml", "w", force_zip64=True) as f:
                        xml(f)
                else:
                    z.writestr("word/document.xml", xml)
        w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">' + "".join(
            f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9)) + "]>"
        body = "<w:p><w:r><w:t>&j;</w:t></w:r></w:p>"
        docx("entities.docx", bomb + f"<w:document {w}><w:body>{body}</w:body></w:document>")
        nested = "<w:sdt>" * 100000 + "</w:sdt>" * 100000
        docx("deep.docx", f"<w:document {w}><w:body>{nested}</w:body></w:document>")
        def zeros(f):
            head = f"<w:document {w}><w:body><w:p><w:r><w:t>".encode()
            f.write(head)
            block = b" " * (1 << 20)
            for _ in range(100):
                f.write(block)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")
        docx("deflate-bomb.docx", zeros)
        open(os.path.join(corpus, "z-deep.html"), "w").write(
            "<html><body><p>Visible start.</p>" + "<div>" * 100000 + "buried text" + "</div>" * 100000
            + "</body></html>")
        os.mkfifo(os.path.join(corpus, "pipe.txt"))
        os.symlink("/etc/passwd", os.path.join(corpus, "passwd.txt"))
        same = "# Glazes\n\nCobalt gives a deep blue in reduction firings."
        open(os.path.join(corpus, "same.md"), "w").write(same)
        open(os.path.join(corpus, "same.txt"), "w").write(same)
        open(os.path.join(corpus, "charset.html"), "wb").write(
            b'<html><head><meta charset="ISO-2022-JP"></head><body><p>kept \x1b$B\xff\xfe lost</p></body></html>')
        open(os.path.join(corpus.encode(), b"caf\xe9.txt"), "wb").write(b"a name that is not UTF-8")
        open(os.path.join(corpus, "two\nlines.txt"), "w").write("a name with a line break")
        """#

    @Test(arguments: [false, true])
    func eachHostileDocumentIsAFailedItemWithAReason(_ followSymlinks: Bool) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiln-hostile-\(UUID().uuidString)")
        let corpus = directory.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try KilnPipeBinary.run(
            ["-c", Self.generator, corpus.path], in: directory, executable: URL(fileURLWithPath: "/usr/bin/python3"))
        #expect(made.status == 0, "\(made.stderr)")
        try """
        version: 1
        stages:
          - {id: docs, type: ingest, paths: ["corpus/"], follow_symlinks: \(followSymlinks)}
          - {id: idx, type: index, from: docs}
        """.write(to: directory.appendingPathComponent("p.yml"), atomically: true, encoding: .utf8)
        let started = Date()
        let run = try KilnPipeBinary.run(["run", "p.yml"], in: directory)
        #expect(Date().timeIntervalSince(started) < 60, "no hang")
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        #expect(usage.ru_maxrss < 500 * 1024, "peak RSS \(usage.ru_maxrss / 1024) MB")
        let status = try KilnPipeBinary.run(["status", "p.yml", "--json"], in: directory)
        let reasons = status.stdout
        for expected in [
            "corpus/entities.docx", "declares a DTD or entities",
            "corpus/deep.docx", "not well-formed XML (libxml2",
            "corpus/deflate-bomb.docx", "unzips to more than",
            "corpus/pipe.txt", "not a regular file (a FIFO): never opened",
            #"corpus/caf\\xE9.txt: the file name is not UTF-8 text"#,
            #"corpus/two\\nlines.txt: the file name is not UTF-8 text or holds a line break"#,
        ] {
            #expect(reasons.contains(expected), "\(expected): \(reasons)")
        }
        #expect(reasons.contains("outside the folders the stage reads") == !followSymlinks, "\(reasons)")
        // The same bytes under two formats are two documents, each read as its own format.
        let items = try String(
            contentsOf: directory.appendingPathComponent(".kiln-pipe/out/p/docs.jsonl"), encoding: .utf8)
        #expect(items.contains("\"format\":\"markdown\"") && items.contains("\"format\":\"text\""), "\(items)")
        #expect(items.contains("Visible start."), "the text above the cut is kept")
        // Five failures are shown, then the notes: a warning that text was dropped is never crowded out.
        for warning in [
            "corpus/z-deep.html: warning: text nested deeper than the parser's limit was dropped",
            "corpus/charset.html: warning: the page's bytes do not fit the encoding it declares",
        ] {
            #expect(run.stdout.contains(warning), "\(run.stdout)")
        }
        // libxml2's own messages go into the reasons and warnings, never onto standard error.
        #expect(!run.stderr.contains("error :"), "\(run.stderr)")
        let passwd = try KilnPipeBinary.run(["search", "p.yml", "root", "--mode", "bm25", "--json"], in: directory)
        #expect(passwd.stdout.contains("passwd.txt") == followSymlinks, "\(passwd.stdout)")
        // The same result on a rerun: nothing crashed, so nothing is different.
        let again = try KilnPipeBinary.run(["run", "p.yml", "--json"], in: directory)
        #expect(again.status == 3)
        let failed = { (outcome: KilnPipeBinary.Outcome) in
            try DocumentSearch.finished("docs", in: outcome)["failed"] as? Int
        }
        #expect(try failed(again) == (followSymlinks ? 6 : 7), "\(again.stdout)")
    }
}
