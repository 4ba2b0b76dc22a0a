import Foundation
import KilnBasics
import KilnIndex
import KilnIngest

/// Documents: PDF extraction against `pdftotext` on the same files, search index build for 100k chunks (bulk vs
/// row by row), BM25 query latency, exact vector search.
enum DocumentsBench {
    static func run(in work: URL) throws {
        print("\ndocuments:")
        try extraction(in: work)
        try index(in: work)
    }

    // MARK: PDF extraction

    static func extraction(in work: URL) throws {
        let tool = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        var random = SplitMix64(seed: 7)
        let vocabulary = Vocabulary(size: 5000, random: &random)
        var files: [String] = []
        for file in 0..<8 {
            let pages = (0..<100).map { _ in (0..<40).map { _ in vocabulary.sentence(words: 12, random: &random) } }
            let path = work.appendingPathComponent("bench-\(file).pdf").path
            try PDFWriter.write(pages: pages, to: path)
            files.append(path)
        }
        let pageCount = files.count * 100
        // Each side twice, interleaved, best of two: the machine is shared.
        var ours: [Double] = []
        var theirs: [Double] = []
        for _ in 0..<2 {
            let start = Date()
            var characters = 0
            for path in files { characters += try DocumentExtractor.extract(path: path).text.count }
            precondition(characters > 0)
            ours.append(Date().timeIntervalSince(start))
            if let tool {
                let start = Date()
                for path in files {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: tool)
                    process.arguments = [path, "-"]
                    process.standardOutput = FileHandle.nullDevice
                    try process.run()
                    process.waitUntilExit()
                }
                theirs.append(Date().timeIntervalSince(start))
            }
        }
        let oursRate = Double(pageCount) / (ours.min() ?? 1)
        print("  PDF text, \(files.count) files × 100 pages (40 lines each), one core:")
        print("    kiln-pipe (poppler-glib, in process)  \(Int(oursRate)) pages/s")
        if let best = theirs.min() {
            let theirRate = Double(pageCount) / best
            print("    pdftotext (poppler-utils, per file)   \(Int(theirRate)) pages/s")
            print("    kiln-pipe / pdftotext: \(Entrypoint.format(oursRate / theirRate, 2)) (target ≥ 0.9)")
        } else {
            print("    pdftotext not installed (apt-get install poppler-utils) — no side-by-side ratio")
        }
    }

    // MARK: Index and queries

    static func index(in work: URL) throws {
        var random = SplitMix64(seed: 11)
        let vocabulary = Vocabulary(size: 20_000, random: &random)
        let documents = 1000
        let perDocument = 100
        let chunks = (0..<documents).map { _ in
            (0..<perDocument).map { index in
                IndexedChunk(
                    index: index, text: vocabulary.sentence(words: 80, random: &random), page: nil, headings: [],
                    start: 0, end: 0)
            }
        }
        func document(_ number: Int) -> IndexedDocument {
            IndexedDocument(
                id: "doc-\(number)", path: "corpus/doc-\(number).md", name: "doc-\(number).md", format: "markdown",
                contentHash: "h",
                configHash: "c", pages: nil)
        }
        var timings: [String: Double] = [:]
        var bulkIndex: SearchIndex?
        for bulk in [true, false] {
            let path = work.appendingPathComponent("index-\(bulk).sqlite").path
            let index = try SearchIndex(path: path)
            let start = Date()
            if bulk { try index.beginBulk() }
            try index.transaction {
                for (number, chunks) in chunks.enumerated() {
                    try index.replace(document(number), chunks: chunks, maintainText: !bulk)
                }
            }
            if bulk { try index.finishBulk() }
            timings[bulk ? "bulk" : "rows"] = Date().timeIntervalSince(start)
            if bulk { bulkIndex = index }
        }
        let total = documents * perDocument
        print("  search index, \(total) chunks of ~80 words (\(documents) documents):")
        print("    first build (tables, then one FTS5 pass)   \(Entrypoint.format(timings["bulk"] ?? 0)) s")
        print("    row by row (FTS5 kept in step)             \(Entrypoint.format(timings["rows"] ?? 0)) s")
        print("    row by row / first build: \(Entrypoint.format((timings["rows"] ?? 0) / (timings["bulk"] ?? 1), 2))")
        guard let index = bulkIndex else { return }

        // Queries of 2–4 words; content words (rank > 100) as people type, and the worst case of frequent words.
        for (label, ranks) in [
            ("content words", 100..<20_000), ("frequent words (rank < 100, in 14–98% of chunks)", 0..<100),
        ] {
            var latencies: [Double] = []
            for _ in 0..<500 {
                let words = (0..<(2 + Int(random.next() % 3))).map { _ in
                    vocabulary.word(inRanks: ranks, random: &random)
                }
                let start = Date()
                _ = try index.bm25(words.joined(separator: " "), limit: 5)
                latencies.append(Date().timeIntervalSince(start) * 1000)
            }
            latencies.sort()
            let p50 = latencies[latencies.count / 2]
            let p95 = latencies[latencies.count * 95 / 100]
            print(
                "    BM25 top-5, \(label): p50 \(Entrypoint.format(p50)) ms  p95 \(Entrypoint.format(p95)) "
                    + "ms\(label == "content words" ? " (target p95 ≤ 20 ms)" : "")"
            )
        }

        // Exact cosine over stored vectors (256 dimensions, as the fake embedder's).
        let dimensions = 256
        let pending = try index.chunksWithoutVectors(limit: total)
        try index.transaction {
            try index.setVectors(
                pending.map { ($0.rowID, (0..<dimensions).map { _ in Float(random.next() % 1000) / 1000 - 0.5 }) })
        }
        var latencies: [Double] = []
        for _ in 0..<20 {
            let query = (0..<dimensions).map { _ in Float(random.next() % 1000) / 1000 - 0.5 }
            let start = Date()
            _ = try index.nearest(to: query, limit: 5)
            latencies.append(Date().timeIntervalSince(start) * 1000)
        }
        latencies.sort()
        let median = latencies[latencies.count / 2]
        print(
            "    vector top-5, exact cosine over \(total) × \(dimensions): p50 \(Entrypoint.format(median)) ms "
                + "(vectors loaded once; ~\(Entrypoint.format(median * 10 / 1000, 2)) s at 1M)"
        )
    }
}

/// Pronounceable made-up words with Zipf frequencies, like natural text.
struct Vocabulary {
    let words: [String]
    let cumulative: [Double]

    init(size: Int, random: inout SplitMix64) {
        let consonants = Array("bcdfghklmnprstvz")
        let vowels = Array("aeiou")
        var words: [String] = []
        var seen = Set<String>()
        while words.count < size {
            let syllables = 1 + Int(random.next() % 3)
            let word = String(
                (0..<syllables).flatMap { _ in
                    [
                        consonants[Int(random.next() % UInt64(consonants.count))],
                        vowels[Int(random.next() % UInt64(vowels.count))],
                    ]
                })
            if seen.insert(word).inserted { words.append(word) }
        }
        self.words = words
        var total = 0.0
        cumulative = (1...size).map { rank in
            total += 1 / Double(rank)
            return total
        }
    }

    func word(random: inout SplitMix64) -> String { word(inRanks: 0..<words.count, random: &random) }

    /// A word drawn by frequency among the given ranks.
    func word(inRanks ranks: Range<Int>, random: inout SplitMix64) -> String {
        let low = ranks.lowerBound == 0 ? 0 : cumulative[ranks.lowerBound - 1]
        let target = low + (cumulative[ranks.upperBound - 1] - low) * Double(random.next() % 1_000_000) / 1_000_000
        var lower = ranks.lowerBound
        var upper = ranks.upperBound - 1
        while lower < upper {
            let middle = (lower + upper) / 2
            if cumulative[middle] < target { lower = middle + 1 } else { upper = middle }
        }
        return words[lower]
    }

    func sentence(words count: Int, random: inout SplitMix64) -> String {
        (0..<count).map { _ in word(random: &random) }.joined(separator: " ")
    }
}

/// Minimal PDFs with text pages (Helvetica, WinAnsi), as the extraction fixtures are made.
enum PDFWriter {
    static func write(pages: [[String]], to path: String) throws {
        var objects: [String] = ["<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
        let pagesID = 1 + 2 * pages.count + 1
        var kids: [Int] = []
        for lines in pages {
            var stream = "BT /F1 10 Tf 40 760 Td 12 TL\n"
            for line in lines { stream += "(\(line)) Tj T*\n" }
            stream += "ET"
            objects.append("<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream")
            let content = objects.count
            objects.append(
                "<< /Type /Page /Parent \(pagesID) 0 R /MediaBox [0 0 612 792] /Contents \(content) 0 R "
                    + "/Resources << /Font << /F1 1 0 R >> >> >>"
            )
            kids.append(objects.count)
        }
        objects.append(
            "<< /Type /Pages /Kids [\(kids.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(kids.count) >>")
        objects.append("<< /Type /Catalog /Pages \(pagesID) 0 R >>")
        var output = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (number, body) in objects.enumerated() {
            offsets.append(output.utf8.count)
            output += "\(number + 1) 0 obj\n\(body)\nendobj\n"
        }
        let xref = output.utf8.count
        output += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { output += String(format: "%010d 00000 n \n", offset) }
        output += "trailer\n<< /Size \(objects.count + 1) /Root \(objects.count) 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        try output.write(toFile: path, atomically: true, encoding: .ascii)
    }
}
