import KilnBasics
import KilnExport
import KilnModel
import KilnProviders

/// What `plan` counts for an agent before it has run with a real model: its turns are not known, so a
/// conversation is counted as one round of tool calls and the answer (two requests the size of the first, with
/// the tools it is offered), and each task it may call as run once on the same input (its own turns alike).
/// The forecast says so; a stage on the in-process fake is measured instead (`UnitEstimator`).
enum AgentForecast {
    static func estimate(
        tools: ToolSettings, system: String, input: String, params: ModelParams, structured: StructuredOutputSpec?,
        provider: ProviderConfig?, declared: [String: ProviderConfig]
    ) -> CallEstimate {
        var definitions = (try? KilnToolDefinitions.definitions(for: tools.builtIns)) ?? []
        definitions += tools.searchTools.map(ToolBox.definition(of:))
        definitions += tools.subTasks.map {
            KilnToolDefinitions.function(name: $0.name, description: $0.description, parameters: $0.parameters)
        }
        let request = ChatRequest(
            messages: [.system(system), .user(input)], params: params, structured: structured, tools: definitions)
        var total = CallEstimate.of(tools.isEmpty ? [request] : [request, request], provider: provider)
        for task in tools.subTasks {
            total =
                total
                + estimate(
                    tools: task.tools, system: TaskPrompt.systemMessage(for: task.task), input: input,
                    params: ModelParams(), structured: task.task.outputSchema.map { StructuredOutputSpec(schema: $0) },
                    provider: declared[task.model], declared: declared)
        }
        return total
    }
}
