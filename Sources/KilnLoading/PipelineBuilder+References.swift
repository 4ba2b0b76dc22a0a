import KilnBasics
import KilnModel
import Yams

extension PipelineBuilder {
    /// Checks what stages name outside the graph: providers, and the task the generation stages need.
    func checkReferences(_ stages: [StageDraft]) {
        let providerNames = Array(declaredProviders.keys).sorted()
        for stage in stages {
            for reference in stage.providerReferences where declaredProviders[reference.name] == nil {
                reader.error(
                    at: reference.node, "stage '\(stage.id ?? "?")' uses unknown provider '\(reference.name)'",
                    hint: providerNames.isEmpty
                        ? "declare it under 'providers:', e.g. \(reference.name): {kind: openai, model: gpt-4o-mini}"
                        : NearMiss.hint(for: reference.name, among: providerNames, listing: "declared providers"))
            }
            if let type = stage.type, [.topics, .inputs, .outputs].contains(type), !taskDeclared {
                reader.error(
                    at: stage.node, "stage '\(stage.id ?? "?")' of type \(type.rawValue) needs a task",
                    hint: "add a top-level 'task:' with an instruction, or kiln_project and task_id")
            }
            if case .judge(let judge)? = stage.settings, judge.method == .gEval, let name = judge.provider,
                let node = stage.providerReferences.first?.node, declaredProviders[name] != nil,
                providerKinds[name] == .anthropic
            {
                reader.warning(
                    at: node,
                    "provider '\(name)' (anthropic) returns no logprobs, so g_eval will fall back to llm_as_judge",
                    hint: "use an OpenAI-compatible or Gemini judge for g_eval")
            }
        }
    }

}
