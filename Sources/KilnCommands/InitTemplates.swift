/// The starter projects `kiln-pipe init` writes: a commented pipeline and a tiny dataset each, running at once
/// against the built-in fake provider (no key, no network).
enum InitTemplates: String, CaseIterable {
    case eval
    case sdg
    case docs
    case agent
    case kiln

    /// What the template is, for `--help` and the message after writing it.
    var summary: String {
        switch self {
        case .eval: "an eval of a golden set: answers judged by an LLM judge and assertions, with thresholds for CI"
        case .sdg: "synthetic data: topics, inputs, answers, a judge, a split and fine-tune exports"
        case .docs: "documents: ingest, a search index, questions from the chunks and a RAG eval (hit@k, MRR)"
        case .agent: "an agent: the task answered with tools (Kiln's math tools), judged on its tool use"
        case .kiln: "a Kiln project: a golden set answered, judged and split into a new Kiln project for the Kiln app"
        }
    }

    /// The pipeline file's name.
    var pipelineFile: String { "\(rawValue).yml" }

    /// Files to write, relative to the folder: the pipeline first.
    var files: [(path: String, text: String)] {
        switch self {
        case .eval: [(pipelineFile, Self.evalPipeline), ("data/golden.jsonl", Self.golden)]
        case .sdg: [(pipelineFile, Self.sdgPipeline)]
        case .docs: [(pipelineFile, Self.docsPipeline), ("docs/glazes.md", Self.glazes), ("docs/kilns.md", Self.kilns)]
        case .agent: [(pipelineFile, Self.agentPipeline), ("data/problems.jsonl", Self.problems)]
        case .kiln: [(pipelineFile, Self.kilnPipeline), ("data/golden.jsonl", Self.golden)]
        }
    }

    static let header = """
        # yaml-language-server: $schema=kiln-pipe.schema.json
        # Written by `kiln-pipe init`. Runs as is against the built-in fake provider (no key, no network); to use a
        # real model, change a provider to e.g. {kind: openai, model: gpt-4o-mini} and export OPENAI_API_KEY.
        # The format: docs/pipeline-format.md of kiln-pipe.

        """

    /// The model under test, the judge and the support task the eval and Kiln starters share.
    static let supportReply = """

        providers:
          candidate: {kind: fake, model: candidate}   # the model under test
          judge: {kind: fake, model: judge}           # the LLM judge

        task:
          name: Support reply
          instruction: Reply to the customer of a small bookshop. Be accurate, kind and brief.
          requirements:
            - {name: polite, instruction: The reply is courteous., type: pass_fail}

        stages:

        """

    static let kilnPipeline =
        header + "version: 1\nname: kiln\n" + supportReply + """
              - {id: golden, type: load, path: data/golden.jsonl, fields: {input: question, expected: answer}}
              - {id: answers, type: outputs, from: golden, models: [candidate]}
              - {id: judged, type: judge, from: answers, provider: judge, thresholds: {overall: "mean >= 1"}}
              - {id: split, type: split, from: judged, preset: train_test}

              # Into a Kiln project (started on the first run): the task, every answer as a task run, the run
              # config, the judge as a Kiln eval with its scores, and the split. Open kiln-project/project.kiln in
              # the Kiln app to rate, repair and tag; a rerun keeps everything done there. To work from what you
              # curated in Kiln instead of the file, load its runs:
              #   - {id: golden, type: load, kiln_project: kiln-project, filter: tag::golden}
              - {id: project, type: export, from: split, kiln_project: kiln-project}

            """

    static let evalPipeline =
        header + "version: 1\nname: eval\n" + supportReply + """
              - id: golden                     # the golden set: one JSON object per line
                type: load
                path: data/golden.jsonl
                fields: {input: question, expected: answer}

              - {id: answers, type: outputs, from: golden, models: [candidate]}

              - id: judged
                type: judge
                from: answers
                provider: judge
                assertions:
                  - {type: not_contains, value: "as an AI", ignore_case: true}
                thresholds:                    # any failed condition exits 1: a CI gate
                  overall: "mean >= 2"
                  not_contains: "pass_rate == 1"

            """

    static let golden = """
        {"question": "Where is my order 1042?", "answer": "It shipped yesterday and arrives in two days."}
        {"question": "Can I return a book I did not like?", "answer": "Yes, within 30 days, unread or not."}
        {"question": "Do you sell gift cards?", "answer": "Yes, from 10 to 100 euros, online and in store."}
        {"question": "My book arrived damaged.", "answer": "We send a new copy at once; keep the damaged one."}

        """

    static let sdgPipeline =
        header + """
            version: 1
            name: sdg

            providers:
              teacher: {kind: fake, model: teacher}

            task:
              name: Recipe helper
              instruction: Suggest one quick recipe for the ingredients given.

            stages:
              - {id: topics, type: topics, provider: teacher, depth: 2, breadth: 3}   # a topic tree
              - {id: inputs, type: inputs, from: topics, provider: teacher, per_topic: 2}
              - {id: answers, type: outputs, from: inputs, models: [teacher]}
              - {id: judged, type: judge, from: answers, provider: teacher}
              - {id: split, type: split, from: judged, preset: train_test}     # Kiln's 80/20 preset
              - {id: finetune, type: export, from: split, format: openai_chat_jsonl, out: exports/finetune}

            """

    static let docsPipeline =
        header + """
            version: 1
            name: docs

            providers:
              assistant: {kind: fake, model: assistant}
              judge: {kind: fake, model: judge}

            task:
              instruction: Answer the question from the pottery notes.

            stages:
              - {id: docs, type: ingest, paths: [docs], chunker: {type: fixed_window, size: 64, overlap: 0}}
              - {id: idx, type: index, from: docs}          # search it: kiln-pipe search docs.yml "glaze"
              - {id: questions, type: qna, from: docs, provider: assistant, per_chunk: 2}
              - id: answers                                 # the agent answers with Kiln's RAG tool
                type: outputs
                from: questions
                models: [assistant]
                tools: [{search: idx}]
              - id: rag
                type: judge
                from: answers
                provider: judge
                score: pass_fail
                rubric:
                  - {name: faithful, instruction: The answer says only what the passages found say., type: pass_fail}
                assertions: [{type: retrieval_hit, k: 5}, {type: reciprocal_rank}]   # hit@5 and MRR, no model
                thresholds: {hit_at_5: "mean >= 0.8"}

            """

    static let glazes = """
        # Glazes

        A celadon glaze turns green in a reduction firing because of the iron oxide it holds.
        Shino glazes crawl and pinhole when they are applied too thickly over a dusty bisque.
        A clear glaze crazes when it shrinks more than the clay body while the kiln cools.

        """

    static let kilns = """
        # Kilns

        An electric kiln reaches cone 6 in about eight hours with a medium speed program.
        A wood kiln needs stoking every few minutes during the last day of a three day firing.
        Opening a kiln above two hundred degrees can crack the pots by thermal shock.

        """

    static let agentPipeline =
        header + """
            version: 1
            name: agent

            providers:
              solver: {kind: fake, model: solver}

            task:
              instruction: Answer the arithmetic word problem. Use the tools.
              output_schema: {type: object, properties: {answer: {type: number}}, required: [answer]}

            stages:
              - {id: problems, type: load, path: data/problems.jsonl}
              - id: answers
                type: outputs
                from: problems
                models: [solver]
                tools: [math]                  # Kiln's add, subtract, multiply, divide; MCP servers: {mcp: {...}};
                                               # another task as a sub-agent: {task: name}, the task under tasks:
                max_tool_calls: 5
              - id: checked
                type: judge
                from: answers
                assertions:
                  - {type: tool_called}
                  - {type: max_tool_calls, value: 2}
                thresholds: {tool_called: "pass_rate == 1"}

            """

    static let problems = """
        {"input": "A shop has 12 boxes and gets 30 more; what is 12 plus 30?"}
        {"input": "A kiln holds 48 pots; what is 48 divided by 6 shelves?"}
        {"input": "A potter throws 7 bowls a day; what is 7 times 5 days?"}

        """
}
