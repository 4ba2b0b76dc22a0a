import Foundation
import KilnBasics
import KilnIndex
import Testing

@Suite struct SearchIndexBehaviour {
    /// Eight topic documents of five chunks each, and queries a user would type for each topic.
    static let topics: [(id: String, chunks: [String], queries: [String])] = [
        (
            "glazes",
            [
                "Celadon glazes get their green from a little iron oxide in reduction firing.",
                "A shino glaze crawls when applied too thick on bisque ware.",
                "Glaze recipes list feldspar, silica, whiting and kaolin by weight.",
                "Test tiles show how a glaze breaks over texture and edges.",
                "Cobalt carbonate turns a clear glaze deep blue even at one percent.",
            ], ["why does my shino glaze crawl", "iron oxide celadon green", "cobalt blue glaze recipe"]
        ),
        (
            "kilns",
            [
                "An electric kiln needs a dedicated circuit and a vent hood.",
                "Kiln elements wear out and the kiln then fires slower.",
                "A gas kiln allows reduction by starving the burners of air.",
                "Kiln shelves need kiln wash so drips of glaze do not stick.",
                "Witness cones on the kiln shelf show the heat work reached.",
            ], ["electric kiln elements wear out", "kiln wash on shelves", "gas kiln reduction burners"]
        ),
        (
            "throwing",
            [
                "Centering the clay on the wheel comes before opening it.",
                "Pull the walls up in three passes keeping them even.",
                "A wobbly pot on the wheel usually was never centered.",
                "Use a rib to compress the floor and avoid S cracks.",
                "Wedging removes air bubbles before you throw on the wheel.",
            ], ["centering clay on the wheel", "pulling walls evenly", "S cracks in the floor"]
        ),
        (
            "trimming",
            [
                "Trim a pot when it is leather hard, not bone dry.",
                "A chuck holds narrow necked forms upside down for trimming.",
                "Sharp loop tools make trimming a foot ring clean.",
                "Tap the pot to center it on the wheel head before trimming.",
                "Trimming too thin makes the foot ring crack in the kiln.",
            ], ["when to trim leather hard", "foot ring loop tools", "chuck for narrow necks"]
        ),
        (
            "drying",
            [
                "Dry pots slowly under plastic to prevent warping.",
                "Handles dry faster than the body and may crack off.",
                "Damp boxes keep greenware moist for days.",
                "Uneven drying causes warping of wide plates.",
                "Bone dry greenware is fragile and should be handled with care.",
            ], ["plates warping while drying", "damp box greenware", "handles crack when drying"]
        ),
        (
            "safety",
            [
                "Silica dust is a lung hazard; wet clean the studio floor.",
                "Wear a respirator when mixing dry glaze materials.",
                "Never sweep dry clay dust; use a HEPA vacuum.",
                "Lead and barium need careful handling and testing for leaching.",
                "Kiln fumes must be vented outside the studio.",
            ], ["silica dust lung hazard respirator", "HEPA vacuum instead of sweeping", "lead leaching test"]
        ),
        (
            "business",
            [
                "Price pottery by time, materials and firing costs.",
                "Craft fairs need a booth, a card reader and stock.",
                "Wholesale orders usually pay half the retail price.",
                "Photograph pots on a plain background for an online shop.",
                "Keep records of sales for taxes at the end of the year.",
            ], ["how to price pottery", "wholesale versus retail price", "online shop photographs"]
        ),
        (
            "handbuilding",
            [
                "Coil building stacks ropes of clay and blends the seams.",
                "Slab building uses rolled sheets of clay joined with slip.",
                "Score and slip every join so the slab seams do not crack.",
                "Pinch pots start from a ball of clay opened with the thumb.",
                "Slump molds shape slabs into plates and bowls.",
            ], ["coil building seams", "slab joins score and slip", "pinch pot thumb"]
        ),
    ]

    static func makeIndex(bulk: Bool = false) throws -> (SearchIndex, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let index = try SearchIndex(path: folder.appendingPathComponent("index.sqlite").path)
        try index.transaction {
            for topic in topics {
                try index.replace(
                    document(topic.id),
                    chunks: topic.chunks.enumerated().map {
                        IndexedChunk(index: $0, text: $1, page: nil, headings: [], start: 0, end: $1.count)
                    }, maintainText: !bulk)
            }
            if bulk { try index.rebuildText() }
        }
        return (index, folder)
    }

    static func document(_ id: String, hash: String = "h1") -> IndexedDocument {
        IndexedDocument(
            id: id, path: "corpus/\(id).md", name: "\(id).md", format: "markdown", contentHash: hash, configHash: "c",
            pages: nil)
    }

    @Test(arguments: [false, true])
    func bm25RanksTheRightDocumentFirst(bulk: Bool) throws {
        let (index, folder) = try Self.makeIndex(bulk: bulk)
        defer { try? FileManager.default.removeItem(at: folder) }
        var precisions: [Double] = []
        for topic in Self.topics {
            for query in topic.queries {
                let hits = try index.bm25(query, limit: 5)
                #expect(hits.first?.documentID == topic.id, "\(query) → \(hits.map(\.documentID))")
                precisions.append(Double(hits.filter { $0.documentID == topic.id }.count) / 5)
            }
        }
        // Precision@5 over the labelled set (measured 0.458: a topic's other chunks rarely share the query's words,
        // which is what lexical search cannot see and vector search is for); the top hit is right for all 24.
        let mean = precisions.reduce(0, +) / Double(precisions.count)
        #expect(mean >= 0.45, "mean precision@5 \(mean)")
        let hit = try #require(try index.bm25("shino crawl", limit: 1).first)
        #expect(hit.snippet.contains("**shino**") && hit.snippet.contains("**crawls**"))
        #expect(hit.score > 0)
    }

    @Test(arguments: ["\"unbalanced", "NEAR(a b", "kiln AND OR", "*", "col:umn", "ünïcödé", "the of and"])
    func anyTypedTextIsAValidQuery(_ query: String) throws {
        let (index, folder) = try Self.makeIndex()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try index.bm25(query, limit: 5)
    }

    @Test func replacingAndRemovingDocumentsUpdatesTheFullTextIndex() throws {
        let (index, folder) = try Self.makeIndex()
        defer { try? FileManager.default.removeItem(at: folder) }
        try index.replace(
            Self.document("glazes", hash: "h2"),
            chunks: [
                IndexedChunk(
                    index: 0, text: "Raku firing pulls pots out red hot.", page: nil, headings: [], start: 0, end: 10)
            ])
        #expect(try index.bm25("shino", limit: 5).isEmpty)
        #expect(try index.bm25("raku", limit: 5).map(\.documentID) == ["glazes"])
        try index.remove(documentID: "kilns")
        #expect(try index.bm25("electric kiln elements", limit: 5).allSatisfy { $0.documentID != "kilns" })
        #expect(try index.documents().map(\.id).sorted() == Self.topics.map(\.id).filter { $0 != "kilns" }.sorted())
        #expect(try index.documents().first { $0.id == "glazes" }?.contentHash == "h2")
        #expect(try index.chunkCount == 5 * 6 + 1)
    }

    @Test func vectorAndHybridSearch() throws {
        let (index, folder) = try Self.makeIndex()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Toy embeddings: one axis per topic, so the nearest chunks are known.
        try index.useEmbeddingModel("toy")
        var pending = try index.chunksWithoutVectors(limit: 1000)
        #expect(pending.count == 40)
        try index.setVectors(
            pending.enumerated().map { offset, chunk in
                var vector = [Float](repeating: 0, count: 20)
                vector[offset / 5] = 1
                vector[19] = Float(offset % 5) * 0.1
                return (chunk.rowID, vector)
            })
        pending = try index.chunksWithoutVectors(limit: 1000)
        #expect(pending.isEmpty)
        var query = [Float](repeating: 0, count: 20)
        query[2] = 3
        let nearest = try index.nearest(to: query, limit: 5)
        #expect(nearest.map(\.documentID) == Array(repeating: "throwing", count: 5))
        #expect(abs((nearest.first?.score ?? 0) - 1) < 0.001)
        // Chunks high in both rankings come first; chunks only one ranking finds still make the list.
        let fused = try index.hybrid("kiln wash on shelves", vector: query, limit: 10)
        #expect(fused.first?.documentID == "kilns")
        #expect(fused.contains { $0.documentID == "throwing" })
        #expect(fused.map(\.score) == fused.map(\.score).sorted(by: >))
        #expect(throws: ActionableError.self) { try index.nearest(to: [1, 2, 3], limit: 5) }
        // A different model invalidates every stored vector.
        try index.useEmbeddingModel("other")
        #expect(try index.vectorCount == 0)
    }

    @Test(arguments: [
        ("How do I trim a pot?", ["trim", "pot"]),
        ("the of and", ["the", "of", "and"]),
        ("Zürich—Málaga", ["zürich", "málaga"]),
        ("", []),
    ])
    func queryTerms(_ query: String, _ terms: [String]) {
        #expect(FTSQuery.terms(query) == terms)
    }
}
