import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import Testing

@testable import KilnStages

/// Structured-output schemas go on the wire with their properties in the order written: strict decoders (OpenAI's
/// strict mode, llama.cpp grammars) write them in that order, so the judge must reason before it scores.
@Suite struct WireOrder {
    static func provider(_ kind: ProviderKind) -> any LLMProvider {
        let config = ProviderConfig(
            name: "p", kind: kind, model: "m", baseURL: "http://127.0.0.1:9/v1", location: SourceLocation(file: "t"))
        let transport = ScriptedHTTPTransport(script: [])
        switch kind {
        case .anthropic: return AnthropicProvider(config: config, apiKey: "k", transport: transport)
        case .gemini: return GeminiProvider(config: config, apiKey: "k", transport: transport)
        case .openai, .fake: return OpenAICompatibleProvider(config: config, apiKey: "k", transport: transport)
        }
    }

    @Test(arguments: [ProviderKind.openai, .anthropic, .gemini])
    func theJudgesReasoningGoesOutBeforeItsScores(kind: ProviderKind) {
        let rubric = [
            TaskRequirement(name: "accurate", instruction: "Is it right?", type: .passFail, priority: 1),
            TaskRequirement(name: "brief", instruction: "Is it short?", type: .fiveStar, priority: 2),
        ]
        let request = ChatRequest(
            messages: [.system("judge"), .user("this")],
            structured: StructuredOutputSpec(
                name: "judgement",
                schema: JudgePrompts.schema(rubric: rubric, overall: .fiveStar, chainOfThought: true)))
        let wire = RequestBody(Self.provider(kind).body(for: request)).text
        let positions = ["\"reasoning\"", "\"accurate\"", "\"brief\"", "\"overall\""].map {
            wire.range(of: $0)?.lowerBound
        }
        #expect(positions.allSatisfy { $0 != nil }, "\(wire)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "\(wire)")
    }
}
