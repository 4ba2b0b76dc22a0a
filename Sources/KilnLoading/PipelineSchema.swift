package import KilnBasics
import KilnModel

/// The JSON Schema (draft-07) of the pipeline format, for editors with the YAML language server
/// (`# yaml-language-server: $schema=…`): completion, descriptions and checks of keys and values. Its keys come
/// from the loader's own key lists, so it cannot list a key the loader refuses or miss one it reads; each key's
/// type and description is written here, and `undescribedKeys` names any key without one (a test keeps it empty).
/// Values may be `${VAR}` anywhere: a number or a choice also accepts a string holding `${`.
package enum PipelineSchema {
    package static var document: JSONValue { build().document }

    /// Keys of the loader's lists that have no schema entry here.
    package static var undescribedKeys: [String] { build().undescribed }

    private static func build() -> (document: JSONValue, undescribed: [String]) {
        var builder = Builder()
        let stageTypes = StageType.allCases.map(\.rawValue)
        var definitions = JSONObject()
        definitions["interpolated"] = object([
            ("type", .string("string")), ("pattern", .string("\\$\\{")),
            ("description", .string("a value taken from vars:, --var or the environment: ${NAME} or ${NAME:-default}")),
        ])
        definitions["provider"] = builder.mapping(PipelineBuilder.providerKeys, context: "provider", required: ["kind"])
        definitions["task"] = builder.mapping(
            PipelineBuilder.inlineTaskKeys + PipelineBuilder.kilnTaskKeys, context: "task")
        definitions["sub_task"] = builder.mapping(
            PipelineBuilder.inlineTaskKeys + PipelineBuilder.kilnTaskKeys + PipelineBuilder.subTaskKeys,
            context: "sub_task", required: ["model"])
        definitions["requirement"] = builder.mapping(
            PipelineBuilder.requirementKeys, context: "requirement", required: ["name", "instruction"])
        definitions["assertion"] = builder.mapping(StageReader.assertionKeys, context: "assertion", required: ["type"])
        definitions["mcp_server"] = builder.mapping(StageReader.mcpServerKeys, context: "mcp", required: ["name"])
        definitions["search_tool"] = builder.mapping(StageReader.searchToolKeys, context: "search")
        definitions["params"] = builder.mapping(StageReader.paramsKeys, context: "params")
        definitions["prompt"] = builder.mapping(StageReader.promptKeys, context: "prompt")
        definitions["embeddings"] = builder.mapping(
            StageReader.embeddingKeys, context: "embeddings", required: ["provider"])
        definitions["chunker"] = builder.mapping(StageReader.chunkerKeys, context: "chunker")
        var conditions: [JSONValue] = []
        for type in StageType.allCases {
            let keys = PipelineBuilder.commonStageKeys + PipelineBuilder.stageKeys(for: type)
            var stage =
                builder.mapping(keys, context: "stage \(type.rawValue)", required: ["id", "type"]).objectValue
                ?? JSONObject()
            var properties = stage["properties"]?.objectValue ?? JSONObject()
            properties["type"] = object([("const", .string(type.rawValue))])
            stage["properties"] = .object(properties)
            definitions["stage_\(type.rawValue)"] = .object(stage)
            conditions.append(
                object([
                    ("if", object([("properties", object([("type", object([("const", .string(type.rawValue))]))]))])),
                    ("then", reference("stage_\(type.rawValue)")),
                ]))
        }
        definitions["stage"] = object([
            ("type", .string("object")), ("required", .array([.string("id"), .string("type")])),
            (
                "properties",
                object([
                    ("id", object([("type", .string("string")), ("description", .string(describe("id")))])),
                    ("type", object([("enum", .array(stageTypes.map(JSONValue.string)))])),
                ])
            ),
            ("allOf", .array(conditions)),
        ])
        var top =
            builder.mapping(PipelineBuilder.topLevelKeys, context: "top", required: ["version", "stages"]).objectValue
            ?? JSONObject()
        top["$schema"] = .string("http://json-schema.org/draft-07/schema#")
        top["title"] = .string("kiln-pipe pipeline (version 1)")
        top["definitions"] = .object(definitions)
        return (.object(top), builder.undescribed)
    }

    /// Builds `{type: object, properties, additionalProperties: false}` for a list of keys, noting keys without
    /// an entry.
    private struct Builder {
        var undescribed: [String] = []

        mutating func mapping(_ keys: [String], context: String, required: [String] = []) -> JSONValue {
            var properties = JSONObject()
            for key in keys {
                guard var schema = PipelineSchema.schema(for: key, in: context)?.objectValue else {
                    undescribed.append("\(context).\(key)")
                    continue
                }
                schema["description"] = .string(PipelineSchema.describe(key, in: context))
                properties[key] = .object(schema)
            }
            return .object(
                JSONObject([
                    ("type", .string("object")), ("properties", .object(properties)),
                    ("required", .array(required.map(JSONValue.string))), ("additionalProperties", .bool(false)),
                ]))
        }
    }

    private static func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }
    private static func reference(_ name: String) -> JSONValue { object([("$ref", .string("#/definitions/\(name)"))]) }
    private static func interpolated(_ schema: JSONValue) -> JSONValue {
        object([("anyOf", .array([schema, reference("interpolated")]))])
    }
    private static var string: JSONValue { object([("type", .string("string"))]) }
    private static var number: JSONValue { interpolated(object([("type", .string("number"))])) }
    private static var integer: JSONValue { interpolated(object([("type", .string("integer"))])) }
    private static var boolean: JSONValue { interpolated(object([("type", .string("boolean"))])) }
    private static var anything: JSONValue { object([]) }
    private static var stringOrList: JSONValue {
        object([("anyOf", .array([string, object([("type", .string("array")), ("items", string)])]))])
    }
    private static func choice<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) -> JSONValue
    where Choice.RawValue == String {
        interpolated(object([("enum", .array(Choice.allCases.map { .string($0.rawValue) }))]))
    }
    private static func list(of item: JSONValue) -> JSONValue { object([("type", .string("array")), ("items", item)]) }
    private static func map(of value: JSONValue) -> JSONValue {
        object([("type", .string("object")), ("additionalProperties", value)])
    }

    /// The schema of a key in a context; nil when none is written (a test fails then).
    private static func schema(for key: String, in context: String) -> JSONValue? {
        switch (context, key) {
        case ("top", "version"): return interpolated(object([("const", .integer(1))]))
        case ("top", "vars"): return map(of: anything)
        case ("top", "providers"): return map(of: reference("provider"))
        case ("top", "task"): return reference("task")
        case ("top", "tasks"): return map(of: reference("sub_task"))
        case ("top", "stages"): return list(of: reference("stage"))
        case ("top", "max_cost_usd"): return number
        case ("provider", "kind"): return choice(ProviderKind.self)
        case ("provider", "structured_output"): return choice(StructuredOutputMode.self)
        case ("provider", "batch"): return boolean
        case ("provider", "max_concurrency"), ("provider", "rpm"), ("provider", "burst"), ("provider", "tpm"),
            ("provider", "max_retries"), ("provider", "max_tokens"), ("provider", "seed"), (_, "batch_size"):
            return integer
        case ("provider", "timeout_s"), ("provider", "input_price_per_million"),
            ("provider", "output_price_per_million"), ("provider", "temperature"), ("provider", "top_p"),
            ("provider", "batch_poll_max_s"), ("provider", "batch_discount"):
            return number
        case ("task", "requirements"), ("sub_task", "requirements"): return list(of: reference("requirement"))
        case ("task", "input_schema"), ("task", "output_schema"), ("sub_task", "input_schema"),
            ("sub_task", "output_schema"):
            return anything
        case ("requirement", "type"): return choice(ScoreType.self)
        case ("chunker", "type"): return choice(ChunkerKind.self)
        case ("chunker", "size"), ("chunker", "overlap"): return integer
        case (_, "embeddings"): return object([("anyOf", .array([string, reference("embeddings")]))])
        case (_, "chunker"): return reference("chunker")
        case ("requirement", "priority"): return integer
        case ("assertion", "type"): return choice(Assertion.Kind.self)
        case ("assertion", "ignore_case"): return boolean
        case ("assertion", "k"): return integer
        case ("assertion", "threshold"): return number
        case ("assertion", "value"), ("assertion", "schema"), ("assertion", "arguments"): return anything
        case ("mcp", "args"): return list(of: string)
        case ("mcp", "env"), ("mcp", "headers"): return map(of: string)
        case ("mcp", "tools"): return list(of: string)
        case ("search", "k"): return integer
        case ("params", "temperature"), ("params", "top_p"): return number
        case ("params", "max_tokens"), ("params", "seed"): return integer
        case (_, "from"), (_, "paths"), (_, "seed_topics"): return stringOrList
        case (_, "models"): return list(of: string)
        case (_, "depth"), (_, "breadth"), (_, "per_topic"), (_, "samples"), (_, "min_chars"), (_, "max_chars"),
            (_, "max_tool_calls"), (_, "max_turns"), (_, "limit"), (_, "max_pages"), (_, "per_chunk"):
            return integer
        case (_, "max_file_mb"), (_, "max_error_rate"): return number
        case (_, "thinking"), (_, "chain_of_thought"), (_, "follow_symlinks"): return boolean
        case (_, "dedup"): return choice(DedupMode.self)
        case (_, "emit"): return choice(TopicEmit.self)
        case (_, "method"): return choice(JudgeMethod.self)
        case (_, "score"): return choice(ScoreType.self)
        case (_, "on_error"): return choice(OnError.self)
        case (_, "format") where context == "stage load": return choice(LoadFormat.self)
        case (_, "format"): return choice(ExportFormat.self)
        case (_, "strategy"): return choice(ChatStrategy.self)
        case (_, "target"): return choice(ExportTarget.self)
        case (_, "preset"): return choice(SplitPreset.self)
        case (_, "fields"):
            return object([
                ("type", .string("object")),
                ("properties", .object(JSONObject(LoadSettings.fieldNames.map { ($0, string) }))),
                ("additionalProperties", .bool(false)),
            ])
        case (_, "splits"): return map(of: number)
        case (_, "thresholds"): return map(of: stringOrList)
        case (_, "assertions"): return list(of: reference("assertion"))
        case (_, "prompts"):
            return map(of: object([("anyOf", .array([string, reference("prompt")]))]))
        case (_, "params"):
            return object([("anyOf", .array([list(of: reference("params")), map(of: reference("params"))]))])
        case (_, "tools"):
            let entry = object([
                (
                    "anyOf",
                    .array([
                        string,
                        object([
                            ("type", .string("object")), ("required", .array([.string("mcp")])),
                            ("properties", object([("mcp", reference("mcp_server"))])),
                            ("additionalProperties", .bool(false)),
                        ]),
                        object([
                            ("type", .string("object")), ("required", .array([.string("task")])),
                            ("properties", object([("task", string)])), ("additionalProperties", .bool(false)),
                        ]),
                        object([
                            ("type", .string("object")), ("required", .array([.string("search")])),
                            (
                                "properties",
                                object([("search", object([("anyOf", .array([string, reference("search_tool")]))]))])
                            ),
                            ("additionalProperties", .bool(false)),
                        ]),
                    ])
                )
            ])
            return object([("anyOf", .array([string, list(of: entry)]))])
        case (_, "rubric"), (_, "where"), (_, "parts"), (_, "filter"),
            (_, "seed"), (_, "encoding"):
            return anything
        case (_, "id"), (_, "type"), (_, "name"), (_, "description"), (_, "instruction"), (_, "system_prompt"),
            (_, "thinking_instruction"), (_, "kiln_project"), (_, "task_id"), (_, "path"), (_, "root"),
            (_, "guidance"), (_, "provider"), (_, "out"), (_, "system_message"), (_, "thinking_instructions"),
            (_, "group_by"), (_, "extraction_provider"), (_, "model"), (_, "base_url"), (_, "api_key_env"),
            (_, "pattern"), (_, "tool"), (_, "command"), (_, "url"), (_, "index"), (_, "kiln_prompt"),
            (_, "kiln_rag_config"):
            return string
        default: return nil
        }
    }

    /// What a key means, in a line (the docs say more: docs/pipeline-format.md).
    static func describe(_ key: String, in context: String = "") -> String {
        let specific: [String: String] = [
            "top.name": "the pipeline's name (default: the file name); names its state, outputs and reports",
            "top.description": "what the pipeline is for",
            "provider.model": "the model name sent to the endpoint",
            "provider.seed": "default sampling seed",
            "stage load.path": "a .jsonl, .csv or .json file, or a folder, relative to the pipeline file",
            "stage load.filter":
                "Kiln filter ids for runs of a Kiln project: tag::NAME, high_rating, multi_filter::A&B",
            "stage split.filter": "Kiln filter ids: all, high_rating, thinking_model, tag::NAME, multi_filter::A&B",
            "stage split.seed": "key of the assignment hash: same data and seed, same split",
            "stage ingest.encoding": "text encoding of text files: auto, utf-8, utf-16, windows-1252, latin-1",
            "stage load.encoding": "text encoding: auto, utf-8, utf-16, windows-1252, latin-1",
            "stage export.parts": "which split parts to write (default: all)",
            "stage index.path": "where the index file is written",
            "stage export.kiln_project": "write the items into this Kiln project instead of files",
            "stage load.kiln_project": "read the task's runs from this Kiln project (project.kiln or its folder)",
            "task.kiln_project": "read the task from this Kiln project (project.kiln or its folder)",
            "sub_task.kiln_project": "read the task from this Kiln project (project.kiln or its folder)",
            "sub_task.model": "the provider that runs the task when a model calls it",
            "sub_task.description": "what the calling model is told the task does (at most 128 characters)",
            "sub_task.tools": "the task's own tools: Kiln tool ids, {mcp: …}, {search: index}, {task: name}",
            "assertion.type": "the check: equals, contains, not_contains, regex, json_schema_valid, …",
            "assertion.name": "the score's name (default: the type)",
            "assertion.value": "what the output must equal or contain",
            "assertion.path": "a JSON path into the output ($.field)",
            "mcp.name": "the server's name, unique in the stage",
            "mcp.tools": "only these tools of the server (default: all)",
            "search.name": "the tool's snake_case name (default: search_<index>)",
            "search.index": "an index stage of the pipeline",
            "search.kiln_rag_config": "the id of a Kiln RAG config the runs name, so Kiln reruns them with its search",
            "search.kiln_project": "the Kiln project holding kiln_rag_config (default: the task's project)",
            "assertion.threshold": "similar: the least cosine similarity that passes (default 0.8)",
            "assertion.embeddings": "similar: the provider (or {provider, model}) that embeds output and reference",
        ]
        if let text = specific["\(context).\(key)"] { return text }
        let general: [String: String] = [
            "version": "the pipeline format version: 1", "vars": "variables for ${NAME} (overridden by --var)",
            "providers": "named model endpoints", "task": "what the model should do (or a Kiln task)",
            "tasks": "tasks models call as tools (sub-agents): name → task with its model and tools",
            "stages": "the stages, chained by from:", "max_cost_usd": "stop dispatching paid calls past this spend",
            "kind": "API family: openai (any compatible server), anthropic, gemini, fake",
            "base_url": "the endpoint, e.g. http://127.0.0.1:11434/v1",
            "api_key_env": "the environment variable holding the key (never the key itself)",
            "max_concurrency": "requests in flight at once", "rpm": "requests per minute allowed",
            "burst": "how many of the rpm requests may go at once", "tpm": "tokens per minute allowed",
            "timeout_s": "per-request timeout in seconds", "max_retries": "retries of one request",
            "input_price_per_million": "USD per million input tokens",
            "output_price_per_million": "USD per million output tokens",
            "temperature": "sampling temperature (0–2)", "max_tokens": "most tokens per answer",
            "top_p": "nucleus sampling (0–1)", "seed": "sampling seed",
            "structured_output": "how structured output is asked for",
            "batch": "send calls through the provider's batch API", "batch_size": "most requests in one batch",
            "batch_poll_max_s": "longest pause between two looks at a batch",
            "batch_discount": "share of the live price a batched call costs",
            "name": "a name", "instruction": "what the model should do",
            "requirements": "rubric items: {name, instruction, type, priority}",
            "system_prompt": "replaces the system prompt built from instruction and requirements",
            "thinking_instruction": "asks for chain of thought before the answer",
            "input_schema": "JSON Schema of structured input", "output_schema": "JSON Schema of structured output",
            "task_id": "the 12-digit id of a Kiln task", "type": "the kind", "priority": "0 (highest) to 3",
            "id": "the stage's id, unique in the pipeline", "from": "the stage(s) whose items this stage reads",
            "description": "what the stage is for", "format": "the file format",
            "fields": "field → column or JSON path",
            "on_error": "fail: stop at the first bad row; skip: count and report it", "limit": "first N rows",
            "provider": "a provider name", "root": "the root topic", "depth": "levels of the topic tree",
            "breadth": "subtopics per topic", "seed_topics": "first-level topics to start from",
            "guidance": "extra instructions for the generator", "emit": "which topics go on: leaves or all",
            "per_topic": "inputs per topic", "dedup": "drop duplicates: none, exact, normalized",
            "min_chars": "drop shorter items", "max_chars": "drop longer items",
            "models": "providers under test; each answers every input", "samples": "answers per input and model",
            "thinking": "ask for chain of thought",
            "tools": "Kiln tool ids, {mcp: …} servers, {search: index}, {task: name}",
            "max_tool_calls": "tool calls per item at most", "max_turns": "model turns per item at most",
            "prompts": "named system prompts to compare: text, task, {system_prompt} or {kiln_prompt}",
            "params": "parameter sets to compare: a list, or names → {temperature, max_tokens, top_p, seed}",
            "method": "llm_as_judge or g_eval", "score": "the overall score's type", "rubric": "what the judge scores",
            "chain_of_thought": "the judge thinks before scoring", "assertions": "model-free checks",
            "thresholds": "score → condition(s), e.g. overall: \"mean >= 4\"",
            "max_error_rate": "share of failed items tolerated before exit 3", "where": "conditions on judge scores",
            "preset": "a split preset", "splits": "part name → fraction (adding up to 1)",
            "group_by": "what stays together in one part", "strategy": "Kiln's chat strategy",
            "target": "a fine-tuning provider, setting format and strategy", "out": "the file or folder to write",
            "system_message": "the system message of exported conversations",
            "thinking_instructions": "the thinking instructions of exported conversations",
            "paths": "files, folders or globs to ingest", "max_file_mb": "skip larger files",
            "max_pages": "read at most this many pages per document", "chunker": "{type, size, overlap}",
            "extraction_provider": "a vision model that transcribes scanned pages",
            "follow_symlinks": "follow symbolic links", "embeddings": "{provider, model, batch_size}",
            "per_chunk": "question/answer pairs per chunk", "pattern": "a regular expression",
            "schema": "a JSON Schema the output must match", "ignore_case": "compare without case",
            "tool": "a tool name", "arguments": "the arguments the tool must be called with", "k": "top k",
            "args": "the command's arguments", "env": "environment variable names passed to the server",
            "url": "a streamable HTTP MCP endpoint", "headers": "header → environment variable holding its value",
            "command": "the command that starts the server", "index": "an index stage",
            "kiln_prompt": "a saved prompt of the Kiln task: id::…", "encoding": "text encoding",
            "size": "tokens per chunk", "overlap": "tokens neighbouring chunks share",
        ]
        return general[key] ?? key
    }
}
