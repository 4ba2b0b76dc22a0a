package import Foundation
package import KilnBasics
import KilnExport
package import KilnModel

/// The `.kiln` records kiln-pipe writes into a Kiln project — a task, its runs and a dataset split — with Kiln
/// 1.2.0's fields in its order (`v, id, created_at, created_by`, the class's fields, `model_type` last), so the
/// Kiln app and the kiln-ai library load them. Ids are derived from content, so writing the same results again
/// updates the same files instead of adding copies.
package enum KilnProjectRecords {
    /// The adapter name recorded as the source of everything kiln-pipe generated.
    package static let adapterName = "kiln-pipe"

    /// Who and when, as every Kiln record starts.
    package struct Stamp: Sendable {
        package var createdAt: String
        package var createdBy: String

        package init(createdAt: String, createdBy: String) {
            self.createdAt = createdAt
            self.createdBy = createdBy
        }
        /// The stamp a record already has (rewriting a record keeps when it was first written).
        package init?(of record: JSONValue?) {
            guard let createdAt = record?["created_at"]?.stringValue, let createdBy = record?["created_by"]?.stringValue
            else { return nil }
            self.init(createdAt: createdAt, createdBy: createdBy)
        }
    }

    /// A 12-digit id (Kiln's shape) derived from `seed`.
    package static func id(for seed: String) -> String {
        let hex = SHA256.hex("kiln-pipe:" + seed).prefix(15)
        let number = UInt64(hex, radix: 16) ?? 0
        let digits = String(number % 900_000_000_000 + 100_000_000_000)
        return digits
    }

    /// `2025-03-14T09:49:14.594005Z`, as pydantic writes a UTC datetime (fraction omitted when zero).
    package static func timestamp(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded()) % 1_000_000
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let base = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return base + (micros == 0 ? "" : String(format: ".%06d", micros)) + "Z"
    }

    static func header(_ id: String, _ stamp: Stamp, nested: Bool = false) -> JSONObject {
        var object = JSONObject([("v", .integer(1)), ("id", .string(id))])
        if nested { object["path"] = .null }
        object["created_at"] = .string(stamp.createdAt)
        object["created_by"] = .string(stamp.createdBy)
        return object
    }

    /// `task.kiln` for a pipeline's task.
    package static func task(id: String, name: String, definition: TaskDefinition, stamp: Stamp) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["description"] = .null
        object["instruction"] = .string(definition.instruction)
        object["requirements"] = .array(
            definition.requirements.map { requirement in
                .object(
                    JSONObject([
                        ("id", .string(Self.id(for: "\(id)/requirement/\(requirement.name)"))),
                        ("name", .string(KilnNames.accepted(requirement.name, limit: KilnNames.shortMaxLength))),
                        ("description", .null), ("instruction", .string(requirement.instruction)),
                        ("priority", .integer(requirement.priority)), ("type", .string(requirement.type.rawValue)),
                    ]))
            })
        object["output_json_schema"] = definition.outputSchema.map { .string(PythonJSON.dumps($0)) } ?? .null
        object["input_json_schema"] = definition.inputSchema.map { .string(PythonJSON.dumps($0)) } ?? .null
        object["thinking_instruction"] = definition.thinkingInstruction.map(JSONValue.string) ?? .null
        object["default_run_config_id"] = .null
        object["turn_mode"] = .string("single_turn")
        object["model_type"] = .string("task")
        return .object(object)
    }

    /// `project.kiln` for a project kiln-pipe starts.
    package static func project(id: String, name: String, stamp: Stamp) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["description"] = .string("Started by kiln-pipe.")
        object["model_type"] = .string("project")
        return .object(object)
    }

    /// A model's settings as Kiln runs them (`KilnAgentRunConfigProperties`): what a run config holds and what a
    /// generated output's source embeds, so Kiln can build an adapter from it and run it again.
    package struct RunSettings: Sendable {
        /// Kiln's model id: for an OpenAI-compatible endpoint `<provider>::<model>`, as Kiln's adapters take it.
        package var model: String
        /// Kiln's provider name (`openai`, `openai_compatible`, `anthropic`…).
        package var provider: String
        package var temperature: Double
        package var topP: Double
        package var structuredOutput: String
        /// The Kiln tool ids the model was offered (`tools_config`).
        package var tools: [String]

        package init(
            model: String, provider: String, temperature: Double, topP: Double, structuredOutput: String,
            tools: [String] = []
        ) {
            self.model = model
            self.provider = provider
            self.temperature = temperature
            self.topP = topP
            self.structuredOutput = structuredOutput
            self.tools = tools
        }

        var json: JSONValue {
            .object(
                JSONObject([
                    ("type", .string("kiln_agent")), ("model_name", .string(model)),
                    ("model_provider_name", .string(provider)), ("prompt_id", .string("simple_prompt_builder")),
                    ("top_p", .double(topP)), ("temperature", .double(temperature)),
                    ("structured_output_mode", .string(structuredOutput)), ("thinking_level", .null),
                    (
                        "tools_config",
                        tools.isEmpty
                            ? .null : .object(JSONObject([("tools", .array(tools.map(JSONValue.string)))]))
                    ),
                    ("input_transform", .null),
                ]))
        }
    }

    /// A `DataSource`: synthetic (a model made it; `settings` and the run config it came from), or imported from
    /// a file. `extra` are kiln-pipe's own properties (pipeline, stage), which Kiln keeps.
    package static func dataSource(
        synthetic settings: RunSettings?, runConfigID: String? = nil, fileName: String? = nil,
        extra: [(String, String)]
    ) -> JSONValue {
        var properties = JSONObject()
        if let settings {
            properties["model_name"] = .string(settings.model)
            properties["model_provider"] = .string(settings.provider)
            properties["adapter_name"] = .string(adapterName)
        } else if let fileName {
            properties["file_name"] = .string(fileName)
        }
        for (key, value) in extra where !value.isEmpty { properties[key] = .string(value) }
        return .object(
            JSONObject([
                ("type", .string(settings == nil && fileName != nil ? "file_import" : "synthetic")),
                ("properties", .object(properties)), ("run_config_id", runConfigID.map(JSONValue.string) ?? .null),
                ("run_config", runConfigID == nil ? .null : settings?.json ?? .null),
            ]))
    }

    /// Tokens, cost and latency of a run.
    package struct RunUsage: Sendable {
        package var inputTokens: Int
        package var outputTokens: Int
        package var cost: Double
        package var latencyMS: Int?

        package init(inputTokens: Int, outputTokens: Int, cost: Double, latencyMS: Int?) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cost = cost
            self.latencyMS = latencyMS
        }
    }

    /// `task_run.kiln`: a generated output of the task with its source; thinking as an intermediate output.
    package static func taskRun(
        id: String, input: String, inputSource: JSONValue, output: String, source: JSONValue,
        intermediate: [(String, String)], usage: RunUsage?, tags: [String], trace: JSONValue?, stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["input"] = .string(input)
        object["input_source"] = inputSource
        var taskOutput = header(Self.id(for: "\(id)/output"), stamp, nested: true)
        taskOutput["output"] = .string(output)
        taskOutput["source"] = source
        taskOutput["rating"] = .null
        taskOutput["model_type"] = .string("task_output")
        object["output"] = .object(taskOutput)
        object["repair_instructions"] = .null
        object["repaired_output"] = .null
        object["intermediate_outputs"] =
            intermediate.isEmpty ? .null : .object(JSONObject(intermediate.map { ($0, .string($1)) }))
        object["tags"] = .array(tags.map(JSONValue.string))
        object["usage"] =
            usage.map { usage in
                .object(
                    JSONObject([
                        ("input_tokens", .integer(usage.inputTokens)), ("output_tokens", .integer(usage.outputTokens)),
                        ("total_tokens", .integer(usage.inputTokens + usage.outputTokens)),
                        ("cost", .double(usage.cost)),
                        ("cached_tokens", .null),
                        ("total_llm_latency_ms", usage.latencyMS.map(JSONValue.integer) ?? .null),
                    ]))
            } ?? .null
        for key in ["cumulative_usage", "synthetic_user_usage"] { object[key] = .null }
        object["trace"] = trace ?? .null
        for key in ["parent_task_run_id", "eval_source"] { object[key] = .null }
        object["model_type"] = .string("task_run")
        return .object(object)
    }

    /// `dataset_split.kiln`: the parts with their fractions and the run ids in each.
    package static func datasetSplit(
        id: String, name: String, parts: [SplitPart], contents: [String: [String]], filter: String, stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["description"] = .string("Written by kiln-pipe.")
        object["splits"] = .array(
            parts.map { part in
                .object(
                    JSONObject([
                        ("name", .string(part.name)), ("description", .null), ("percentage", .double(part.fraction)),
                    ]))
            })
        object["split_contents"] = .object(
            JSONObject(parts.map { ($0.name, .array((contents[$0.name] ?? []).map(JSONValue.string))) }))
        object["filter"] = .string(filter)
        object["model_type"] = .string("dataset_split")
        return .object(object)
    }

    /// `task_run_config.kiln`: the model settings that produced runs (eval runs point at it).
    package static func taskRunConfig(id: String, name: String, settings: RunSettings, stamp: Stamp) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["description"] = .string("The model settings of a kiln-pipe provider.")
        object["run_config_properties"] = settings.json
        object["prompt"] = .null
        object["starred"] = .bool(false)
        object["model_type"] = .string("task_run_config")
        return .object(object)
    }

    /// `external_tool_server.kiln`: an MCP server kiln-pipe's runs called tools of (`local_mcp` started over stdio,
    /// `remote_mcp` over HTTP), so Kiln finds their tools (`mcp::local::<id>::<tool>`, `mcp::remote::…`) and can
    /// rerun them. Environment and header values are never written: their names are listed as secrets, which Kiln
    /// asks for before it connects.
    package static func externalToolServer(
        id: String, server: MCPServerSpec, pipeline: String, stamp: Stamp
    )
        -> JSONValue
    {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(server.name))
        object["type"] = .string(server.url == nil ? "local_mcp" : "remote_mcp")
        object["description"] = .string("An MCP server of the kiln-pipe pipeline \(pipeline).")
        var properties: JSONObject
        if let url = server.url {
            properties = JSONObject([("server_url", .string(url)), ("headers", .object(JSONObject()))])
            if !server.headers.isEmpty {
                properties["secret_header_keys"] = .array(server.headers.keys.sorted().map(JSONValue.string))
            }
        } else {
            properties = JSONObject([
                ("command", .string(server.command)), ("args", .array(server.arguments.map(JSONValue.string))),
                ("env_vars", .object(JSONObject())),
            ])
            if !server.environment.isEmpty {
                properties["secret_env_var_keys"] = .array(server.environment.keys.sorted().map(JSONValue.string))
            }
        }
        properties["is_archived"] = .bool(false)
        object["properties"] = .object(properties)
        object["model_type"] = .string("external_tool_server")
        return .object(object)
    }

    /// `rag_config.kiln` of a search tool (Kiln's RAG tool `kiln_tool::rag::<index stage>`): its tool name and
    /// description, and the vector store config it names; the extractor, chunker and embedding configs it names
    /// are not written (the documents are in kiln-pipe's index, not Kiln's document library).
    package static func ragConfig(
        search: SearchToolSpec, vectorStoreID: String, pipeline: String, stamp: Stamp
    ) -> JSONValue {
        var object = header(search.index, stamp)
        object["name"] = .string(KilnNames.accepted("\(pipeline) \(search.index)"))
        object["is_archived"] = .bool(false)
        object["description"] = .string(
            "The search tool of the kiln-pipe pipeline \(pipeline) over its index stage '\(search.index)'.")
        object["tool_name"] = .string(search.name)
        object["tool_description"] = .string(search.description)
        for key in ["extractor_config_id", "chunker_config_id", "embedding_config_id"] {
            object[key] = .string(id(for: "\(pipeline)/\(search.index)/\(key)"))
        }
        object["vector_store_config_id"] = .string(vectorStoreID)
        object["reranker_config_id"] = .null
        object["tags"] = .null
        object["model_type"] = .string("rag_config")
        return .object(object)
    }

    /// `vector_store_config.kiln` of a search tool's index: LanceDB hybrid search when the index has embeddings,
    /// else full text (BM25), returning the tool's `k` chunks.
    package static func vectorStoreConfig(
        id: String, search: SearchToolSpec, hybrid: Bool, pipeline: String, stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted("\(pipeline) \(search.index)"))
        object["description"] = .string("The index stage '\(search.index)' of the kiln-pipe pipeline \(pipeline).")
        let type = hybrid ? "lancedb_hybrid" : "lancedb_fts"
        object["store_type"] = .string(type)
        var properties = JSONObject([
            ("store_type", .string(type)), ("similarity_top_k", .integer(search.k)), ("overfetch_factor", .integer(1)),
            ("vector_column_name", .string("vector")), ("text_key", .string("text")), ("doc_id_key", .string("doc_id")),
        ])
        if hybrid { properties["nprobes"] = .integer(20) }
        object["properties"] = .object(properties)
        object["model_type"] = .string("vector_store_config")
        return .object(object)
    }

    /// `external_tool_server.kiln` of a task offered as a tool (Kiln's `kiln_task` server): the task and the run
    /// config Kiln runs it with, its tool name and description.
    package static func taskToolServer(
        id: String, spec: SubTaskSpec, taskID: String, runConfigID: String, pipeline: String, stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(spec.name))
        object["type"] = .string("kiln_task")
        object["description"] = .string("A task of the kiln-pipe pipeline \(pipeline), offered as a tool.")
        object["properties"] = .object(
            JSONObject([
                ("task_id", .string(taskID)), ("run_config_id", .string(runConfigID)), ("name", .string(spec.name)),
                ("description", .string(spec.description)), ("is_archived", .bool(false)),
            ]))
        object["model_type"] = .string("external_tool_server")
        return .object(object)
    }

    /// `eval.kiln`: an eval over the runs kiln-pipe wrote (tagged `kiln_pipe`), with the scores it produces.
    package static func eval(
        id: String, name: String, configID: String, outputScores: [(name: String, type: String)], stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["description"] = .string("Judge results of kiln-pipe stage '\(name)'.")
        object["template"] = .null
        object["current_config_id"] = .string(configID)
        object["eval_set_filter_id"] = .null
        object["eval_configs_filter_id"] = .null
        object["train_set_filter_id"] = .null
        object["splits"] = .object(
            JSONObject([
                (
                    "test",
                    .object(JSONObject([("source", .string("task_run")), ("filter_id", .string("tag::kiln_pipe"))]))
                )
            ]))
        object["output_scores"] = .array(
            outputScores.map {
                .object(
                    JSONObject([
                        ("name", .string(KilnNames.accepted($0.name, limit: KilnNames.shortMaxLength))),
                        ("instruction", .null), ("type", .string($0.type)),
                    ]))
            })
        object["favourite"] = .bool(false)
        object["priority"] = .null
        object["status"] = .null
        object["template_properties"] = .null
        object["evaluation_data_type"] = .string("final_answer")
        object["model_type"] = .string("eval")
        return .object(object)
    }

    /// `eval_config.kiln`: the judge (model and method) and the steps it follows.
    package static func evalConfig(
        id: String, name: String, model: String, provider: String, method: String, steps: [String], stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["name"] = .string(KilnNames.accepted(name))
        object["model_name"] = .string(model)
        object["model_provider"] = .string(provider)
        object["config_type"] = .string(method)
        object["properties"] = .object(JSONObject([("eval_steps", .array(steps.map(JSONValue.string)))]))
        object["model_type"] = .string("eval_config")
        return .object(object)
    }

    /// `eval_run.kiln`: one judged run — its scores and the judge's reasoning.
    package static func evalRun(
        id: String, datasetID: String, taskRunConfigID: String, input: String, output: String,
        scores: [(String, Double)],
        reasoning: String?, stamp: Stamp
    ) -> JSONValue {
        var object = header(id, stamp)
        object["dataset_id"] = .string(datasetID)
        object["scored_run_id"] = .null
        object["task_run_config_id"] = .string(taskRunConfigID)
        object["eval_config_eval"] = .bool(false)
        object["input"] = .string(input)
        object["output"] = .string(output)
        object["reference_answer"] = .null
        object["intermediate_outputs"] = reasoning.map { .object(JSONObject([("reasoning", .string($0))])) } ?? .null
        object["task_run_trace"] = .null
        object["scores"] = .object(JSONObject(scores.map { ($0, .double($1)) }))
        for key in ["task_run_usage", "eval_usage", "eval_input_id", "skipped_reason", "skipped_detail"] {
            object[key] = .null
        }
        object["model_type"] = .string("eval_run")
        return .object(object)
    }
}
