import Foundation
import KilnBasics
import KilnModel
import Testing

@testable import KilnStages

/// The qna stage asks as Kiln 1.2.0 asks: its Q&A generation prompt, input and output schema, word for word.
@Suite struct QnaPrompts {
    /// Kiln's own prompt and schema (with and without guidance), printed by the reference kiln-ai.
    @Test func thePromptAndSchemaAreKilns() throws {
        guard let python = KilnPython.path else { return }
        let script = """
            import json
            from kiln_ai.adapters.data_gen.data_gen_prompts import generate_qna_generation_prompt
            from kiln_ai.adapters.data_gen.qna_gen_task import list_json_schema_for_task
            from kiln_ai.datamodel import Task
            task = Task(name="t", instruction="Answer.")
            prompts = [generate_qna_generation_prompt(None), generate_qna_generation_prompt("Ask like a novice.")]
            print(json.dumps(prompts + [json.loads(list_json_schema_for_task(task))]))
            """
        let (status, output) = try KilnPython.run(python, ["-c", script])
        #expect(status == 0)
        let kiln = try JSONValue(parsing: output).arrayValue ?? []
        try #require(kiln.count == 3)
        #expect(QnaPrompt.system(guidance: nil) == kiln[0].stringValue)
        #expect(QnaPrompt.system(guidance: "Ask like a novice.") == kiln[1].stringValue)
        #expect(QnaPrompt.schema(task: TaskDefinition(instruction: "Answer.")) == kiln[2])
    }

    @Test func theInputIsKilnsTaskInput() {
        #expect(
            QnaPrompt.user(documentName: "notes.md", parts: ["Clay shrinks."], count: 2)
                == #"{"kiln_data_gen_document_name":"notes.md","kiln_data_gen_part_text":["Clay shrinks."],"#
                + #""kiln_data_gen_num_samples":2}"#)
    }

    /// Pairs that do not fit are asked again: too few, an empty query, an answer off the task's schema.
    @Test(arguments: [
        (#"{"generated_qna_pairs": [{"query": "q", "answer": "a"}]}"#, "1 Q&A pairs instead of 2"),
        (
            #"{"generated_qna_pairs": [{"query": " ", "answer": "a"}, {"query": "q", "answer": "a"}]}"#,
            "the query of pair 1 is empty or not text"
        ),
        (#"{"pairs": []}"#, "no generated_qna_pairs list in the answer"),
    ])
    func badPairsAreRefused(_ answer: String, _ reason: String) {
        guard case .failure(let failure) = QnaStage.pairs(in: answer, count: 2, task: TaskDefinition(instruction: ""))
        else {
            Issue.record("accepted \(answer)")
            return
        }
        #expect(failure.reason == reason)
    }
}
