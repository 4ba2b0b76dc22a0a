import Foundation
import KilnFakeProvider
import Testing

/// RAG evals from your own documents: a `qna` stage writes question/answer pairs from the chunks of an ingest stage
/// (Kiln's Q&A generation prompt), an agent answers each with a search tool over an index stage (Kiln's RAG tool),
/// and a judge scores retrieval against the source chunk (hit@k, MRR: no model) and the answer's faithfulness.
@Suite struct RAGEvals {
    /// Six workshop notes of eight paragraphs each; every sentence names its own place, material, person and batch.
    static func writeCorpus(to directory: URL) throws {
        let folder = directory.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let materials = ["kiln", "glaze", "clay", "slip", "bisque", "raku", "stoneware", "porcelain", "celadon"]
        let verbs = ["fires", "cools", "melts", "shrinks", "cracks", "crazes", "vitrifies", "darkens", "hardens"]
        let places = ["Faenza", "Jingdezhen", "Arita", "Stoke", "Delft", "Mashiko", "Bizen", "Seto", "Limoges"]
        let people = ["Ada", "Bruno", "Chiyo", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi"]
        var generator = SplitMix(seed: 7)
        for document in 1...6 {
            var text = "# Workshop notes \(document)\n\n"
            for _ in 0..<8 {
                let sentences = (0..<4).map { _ in
                    "In \(generator.pick(places)) the \(generator.pick(materials)) \(generator.pick(verbs)) at "
                        + "\(600 + generator.next(800)) degrees when \(generator.pick(people)) records the "
                        + "\(generator.pick(materials)) batch \(1 + generator.next(998))."
                }
                text += sentences.joined(separator: " ") + "\n\n"
            }
            try text.write(
                to: folder.appendingPathComponent("notes\(document).md"), atomically: true, encoding: .utf8)
        }
    }

    /// A deterministic generator, so the corpus is the same on every machine.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        mutating func pick(_ values: [String]) -> String { values[next(values.count)] }
    }

    /// The questions come from 64-token chunks; the index is chunked by `INDEX_CHUNK` (the same, unless broken).
    static let pipeline = """
        version: 1
        name: scenario
        vars: {INDEX_CHUNK: "64"}
        providers:
          gen: {kind: openai, model: agent, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 8}
          judge: {kind: openai, model: judge, base_url: "BASE_URL", api_key_env: FAKE_KEY, max_retries: 8}
        task:
          instruction: Answer the question from the workshop notes.
        stages:
          - {id: docs, type: ingest, paths: [docs], chunker: {type: fixed_window, size: 64, overlap: 0}}
          - {id: pieces, type: ingest, paths: [docs], chunker: {type: fixed_window, size: "${INDEX_CHUNK}", overlap: 0}}
          - {id: idx, type: index, from: pieces}
          - {id: questions, type: qna, from: docs, provider: gen, per_chunk: 2}
          - id: answers
            type: outputs
            from: questions
            models: [gen]
            tools: [{search: {index: idx, name: search_notes, description: Search the workshop notes., k: 5}}]
          - id: rag
            type: judge
            from: answers
            provider: judge
            score: pass_fail
            rubric:
              - {name: faithfulness, instruction: The answer says only what the passages found say., type: pass_fail}
            assertions: [{type: retrieval_hit, k: 5}, {type: reciprocal_rank}]
            thresholds: {hit_at_5: "mean >= 0.8"}
        """

    /// The mean of a score as the run prints it in its `scores:` table.
    static func printedMean(_ score: String, in stdout: String) -> Double? {
        stdout.split(separator: "\n").lazy.compactMap { line -> Double? in
            let cells = line.split(separator: " ", omittingEmptySubsequences: true)
            guard cells.count >= 4, cells[0] == "rag", cells[2] == score else { return nil }
            return Double(cells[3])
        }.first
    }

    @Test func retrievalAndFaithfulnessAreScoredAndABrokenIndexFailsTheThreshold() throws {
        let scenario = try RunScenario(
            pipeline: Self.pipeline, faults: [FaultRule(kind: .serverError, percent: 10)])
        defer { scenario.finish() }
        try Self.writeCorpus(to: scenario.directory)
        let first = try scenario.run()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let questions = scenario.items(of: "questions")
        let chunks = scenario.items(of: "docs").count
        #expect(chunks > 30 && questions.count == 2 * chunks, "\(questions.count) questions of \(chunks) chunks")
        for question in questions {
            let source = question["source_chunk"] as? [String: Any]
            #expect(source?["document_id"] as? String != nil && source?["chunk_idx"] as? Int != nil)
            #expect((question["expected"] as? String)?.isEmpty == false)
        }
        let answers = scenario.items(of: "answers")
        #expect(answers.count == questions.count)
        for answer in answers {
            #expect(answer["tool_ids"] as? [String] == ["kiln_tool::rag::idx"])
            let trace = answer["trace"] as? [[String: Any]] ?? []
            let result = trace.first { $0["role"] as? String == "tool" }?["content"] as? String ?? ""
            #expect(result.hasPrefix("[document_id: docs/notes"), "\(result.prefix(200))")
            #expect(result.contains("\n\n\n=========\n[document_id: "), "Kiln's separator between hits")
            #expect((answer["retrieved"] as? [[String: Any]])?.count == 5)
        }
        // hit@k and MRR from the searches, faithfulness from the judge: all printed, and in every report.
        let hits = try #require(Self.printedMean("hit_at_5", in: first.stdout), "\(first.stdout)")
        let mrr = try #require(Self.printedMean("mrr", in: first.stdout), "\(first.stdout)")
        #expect(hits >= 0.9, "\(first.stdout)")
        #expect(mrr > 0.5 && mrr <= hits, "\(first.stdout)")
        #expect(Self.printedMean("faithfulness", in: first.stdout) != nil, "\(first.stdout)")
        let reports = scenario.directory.appendingPathComponent(".kiln-pipe/reports/scenario/rag")
        for file in ["summary.md", "junit.xml", "report.html", "summary.json"] {
            let text = try String(contentsOf: reports.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains("hit_at_5") && text.contains("mrr") && text.contains("faithfulness"), "\(file)")
        }
        let summary = try String(contentsOf: reports.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains(String(format: "%.2f mean", mrr)) || mrr == 1, "\(summary)")
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 0)

        // A rerun asks nothing.
        let requests = scenario.fake.currentStatistics.requests
        #expect(try scenario.run().status == 0)
        #expect(scenario.fake.currentStatistics.requests == requests)

        // The index chunked wrongly (16 tokens): retrieval no longer returns the passages the questions came from,
        // hit@k drops and its threshold fails the run (exit 1). Only the answers after the searches are asked again.
        let broken = try scenario.run(["--var", "INDEX_CHUNK=16"])
        #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
        let brokenHits = try #require(Self.printedMean("hit_at_5", in: broken.stdout), "\(broken.stdout)")
        #expect(brokenHits < 0.5, "\(broken.stdout)")
        #expect(broken.stdout.contains("✗  rag    gen    hit_at_5  mean >= 0.8"), "\(broken.stdout)")
        #expect(scenario.fake.currentStatistics.duplicateSuccesses == 0)
    }

    /// Runs that searched, written into a Kiln project, come with the search tool as Kiln's RAG config (the id
    /// their `kiln_tool::rag::<index>` names, the tool's name and description) and its vector store config: Kiln
    /// loads both, and describes the tool as kiln-pipe's exports do. (Kiln's formatter then needs Kiln's RAG stack,
    /// LanceDB and llama_index, which the Kiln app has and `make test` does not install.)
    @Test func theSearchToolIsWrittenAsKilnsRagConfig() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-rag-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try KilnPipeBinary.run(["init", "docs", "--dir", folder.path]).status == 0)
        let file = folder.appendingPathComponent("docs.yml")
        try
            (try String(contentsOf: file, encoding: .utf8) + """
                  - {id: split, type: split, from: rag, preset: train_test}
                  - {id: openai, type: export, from: split, format: openai_chat_jsonl, out: exports/openai}
                  - {id: kiln, type: export, from: split, kiln_project: proj}

                """).write(to: file, atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "docs.yml"], in: folder)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let script = """
            import json, sys
            from kiln_ai.datamodel import Project
            project = Project.load_from_file(sys.argv[1])
            rag = project.rag_configs()[0]
            store = [s for s in project.vector_store_configs() if s.id == rag.vector_store_config_id][0]
            run = project.tasks()[0].runs()[0]
            print(json.dumps({"id": rag.id, "name": rag.tool_name, "description": rag.tool_description,
                "store": store.store_type.value, "k": store.properties["similarity_top_k"],
                "tools": run.output.source.run_config.tools_config.tools}))
            """
        let kiln = try KilnPipeBinary.run(
            ["-c", script, "proj/project.kiln"], in: folder, executable: URL(fileURLWithPath: python))
        #expect(kiln.status == 0, "\(kiln.stderr.suffix(2000))")
        let last = kiln.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let rag = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(rag["id"] as? String == "idx" && rag["tools"] as? [String] == ["kiln_tool::rag::idx"])
        #expect(rag["store"] as? String == "lancedb_fts" && rag["k"] as? Int == 5, "BM25, the tool's k")
        // The definition Kiln builds from the config (name, description, a `query` string) is the exported one.
        let line = try #require(
            try String(contentsOf: folder.appendingPathComponent("exports/openai/train.jsonl"), encoding: .utf8)
                .split(separator: "\n").first)
        let example = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let function = (example["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(function?["name"] as? String == rag["name"] as? String)
        #expect(function?["description"] as? String == rag["description"] as? String)
    }

    /// A search tool naming a RAG config of the Kiln project (`kiln_rag_config:`): the model is offered that
    /// config's tool (its name, description and top k), the runs written into the project name it — so Kiln reruns
    /// them with its own search over its own documents — and kiln-pipe writes no RAG config of its own beside it.
    @Test func aSearchToolNamingAKilnRagConfigIsThatConfigsTool() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_REFERENCE_PYTHON"] else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-rag-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try KilnPipeBinary.run(["init", "docs", "--dir", folder.path]).status == 0)
        // The Kiln project holds a RAG config made with kiln-ai's own data model.
        let made = try KilnPipeBinary.run(
            [
                "-c",
                """
                import sys
                from kiln_ai.datamodel import Project
                from kiln_ai.datamodel.rag import RagConfig
                from kiln_ai.datamodel.vector_store import VectorStoreConfig, VectorStoreType
                project = Project(name="Potter", path=sys.argv[1])
                project.save_to_file()
                store = VectorStoreConfig(parent=project, name="fts", store_type=VectorStoreType.LANCE_DB_FTS,
                    properties={"store_type": "lancedb_fts", "similarity_top_k": 3, "overfetch_factor": 1,
                                "vector_column_name": "vector", "text_key": "text", "doc_id_key": "doc_id"})
                store.save_to_file()
                rag = RagConfig(parent=project, name="notes", tool_name="search_pottery_notes",
                    tool_description="Search the pottery notes.", extractor_config_id="1", chunker_config_id="2",
                    embedding_config_id="3", vector_store_config_id=store.id)
                rag.save_to_file()
                print(rag.id)
                """, folder.appendingPathComponent("proj/project.kiln").path,
            ], in: folder, executable: URL(fileURLWithPath: python))
        let id = try #require(made.stdout.split(separator: "\n").last.map(String.init), "\(made.stderr)")
        let file = folder.appendingPathComponent("docs.yml")
        try
            (try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(
                of: "tools: [{search: idx}]",
                with: "tools: [{search: {index: idx, kiln_rag_config: \"\(id)\", kiln_project: proj}}]")
                + """
                  - {id: split, type: split, from: rag, preset: train_test}
                  - {id: kiln, type: export, from: split, kiln_project: proj}

                """).write(to: file, atomically: true, encoding: .utf8)
        let run = try KilnPipeBinary.run(["run", "docs.yml"], in: folder)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let answers = KilnPipeBinary.jsonObjects(
            inFile: folder.appendingPathComponent(".kiln-pipe/out/docs/answers.jsonl"))
        #expect(!answers.isEmpty)
        for item in answers {
            #expect(item["tool_ids"] as? [String] == ["kiln_tool::rag::\(id)"])
            let function = (item["tool_definitions"] as? [[String: Any]])?.first?["function"] as? [String: Any]
            #expect(function?["name"] as? String == "search_pottery_notes")
            #expect(function?["description"] as? String == "Search the pottery notes.")
            #expect((item["retrieved"] as? [Any])?.count ?? 0 <= 3, "the config's top k")
        }
        let script = """
            import json, sys
            from kiln_ai.datamodel import Project
            from kiln_ai.datamodel.rag import RagConfig
            project = Project.load_from_file(sys.argv[1])
            tools = {tuple(run.output.source.run_config.tools_config.tools) for run in project.tasks()[0].runs()}
            found = [RagConfig.from_id_and_parent_path(tool.split("::")[2], project.path) for (tool,) in tools]
            print(json.dumps({"configs": len(project.rag_configs()), "tools": [list(t) for t in tools],
                              "found": [config.tool_name for config in found if config]}))
            """
        let kiln = try KilnPipeBinary.run(
            ["-c", script, "proj/project.kiln"], in: folder, executable: URL(fileURLWithPath: python))
        #expect(kiln.status == 0, "\(kiln.stderr.suffix(2000))")
        let last = kiln.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["configs"] as? Int == 1, "no RAG config of kiln-pipe's beside Kiln's")
        #expect(report["tools"] as? [[String]] == [["kiln_tool::rag::\(id)"]])
        #expect(report["found"] as? [String] == ["search_pottery_notes"], "Kiln's registry finds the config")
    }

    /// The search tool's answer is what Kiln 1.2.0's own `format_search_results` writes for the same chunks.
    @Test func theSearchToolAnswersInKilnsLayout() throws {
        guard let python = ProcessInfo.processInfo.environment["KILN_FULL_PYTHON"] else { return }
        let scenario = try RunScenario(pipeline: Self.pipeline)
        defer { scenario.finish() }
        try Self.writeCorpus(to: scenario.directory)
        #expect(try scenario.run(["--only", "answers"]).status == 0)
        let answer = try #require(scenario.items(of: "answers").first)
        let trace = try #require(answer["trace"] as? [[String: Any]])
        let mine = try #require(trace.first { $0["role"] as? String == "tool" }?["content"] as? String)
        let retrieved = try #require(answer["retrieved"] as? [[String: Any]])
        let chunks = try JSONSerialization.data(
            withJSONObject: retrieved.map { [$0["document_id"] as? String ?? "", $0["chunk_idx"] as? Int ?? -1] })
        // Kiln's rag_tools module needs LanceDB and llama_index to import: its formatter is taken from its source.
        let script = """
            import ast, importlib.util, json, pathlib, sqlite3, sys, types
            source = pathlib.Path(importlib.util.find_spec("kiln_ai").origin).parent / "tools" / "rag_tools.py"
            tree = ast.parse(source.read_text())
            kept = [n for n in tree.body if getattr(n, "name", None) in ("ChunkContext", "format_search_results")]
            scope = {}
            exec("from typing import List\\nfrom pydantic import BaseModel\\nSearchResult = object\\n", scope)
            exec(compile(ast.Module(body=kept, type_ignores=[]), str(source), "exec"), scope)
            db = sqlite3.connect(sys.argv[1])
            results = []
            for document, index in json.loads(sys.argv[2]):
                text = db.execute("SELECT text FROM chunks WHERE document_id = ? AND chunk_idx = ?",
                                  (document, index)).fetchone()[0]
                results.append(types.SimpleNamespace(document_id=document, chunk_idx=index, chunk_text=text))
            sys.stdout.write(json.dumps(scope["format_search_results"](results)))
            """
        let kiln = try KilnPipeBinary.run(
            ["-c", script, ".kiln-pipe/idx.index.sqlite", String(decoding: chunks, as: UTF8.self)],
            in: scenario.directory,
            environment: ["HOME": scenario.directory.path, "LITELLM_LOCAL_MODEL_COST_MAP": "True"],
            executable: URL(fileURLWithPath: python))
        #expect(kiln.status == 0, "\(kiln.stderr.suffix(2000))")
        let theirs = try JSONSerialization.jsonObject(with: Data(kiln.stdout.utf8), options: .fragmentsAllowed)
        #expect(mine == theirs as? String)
    }
}
