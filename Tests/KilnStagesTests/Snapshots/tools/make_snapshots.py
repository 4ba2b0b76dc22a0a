"""Makes the tool-trace export goldens with kiln-ai 1.2.0 itself (make test's .build-kiln-full venv):

    LITELLM_LOCAL_MODEL_COST_MAP=True HOME=$(mktemp -d) .build-kiln-full/bin/python \
        Tests/KilnStagesTests/Snapshots/tools/make_snapshots.py Tests/KilnStagesTests/Snapshots/tools

writes OUT/project (a Kiln project: a structured task, four runs with tool-call traces, parallel calls, list
content, a run without tools and one without thinking, and a split) and, for every format x strategy x split part,
OUT/<format>--<strategy>--<part>.jsonl: one line per run in split order, exactly as Kiln's DatasetFormatter
writes it (dump_to_file's loop body, run by run), or "ERROR <message>" where Kiln refuses the run. With --check,
writes nothing and exits 1 when the goldens in OUT differ from what Kiln makes now (ids of Hugging Face task
responses are random in Kiln: blanked on both sides).
"""
import asyncio
import json
import re
import shutil
import sys
from pathlib import Path

from kiln_ai.adapters.fine_tune.dataset_formatter import FORMAT_GENERATORS, DatasetFormat, DatasetFormatter, build_training_chat
from kiln_ai.datamodel import DataSource, DataSourceType, DatasetSplit, Project, Task, TaskOutput, TaskRun
from kiln_ai.datamodel.datamodel_enums import ChatStrategy
from kiln_ai.datamodel.dataset_split import DatasetSplitDefinition
from kiln_ai.datamodel.run_config import KilnAgentRunConfigProperties, ToolsRunConfig

STRATEGIES = [ChatStrategy.single_turn, ChatStrategy.two_message_cot, ChatStrategy.single_turn_r1_thinking]
SYSTEM = "Answer the arithmetic question."


def call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


RUNS = [
    # (input, final, intermediate outputs, tools, trace after system + user)
    ("What is 2 + 3?", '{"answer": 5}', {"reasoning": "I add them."}, ["kiln_tool::add_numbers"], [
        {"role": "assistant", "content": None, "tool_calls": [call("call_a1", "add", {"a": 2, "b": 3})]},
        {"role": "tool", "content": "5", "tool_call_id": "call_a1"},
        {"role": "assistant", "content": '{"answer": 5}'},
    ]),
    ("What is (18 - 6) / (3 + 3)? «ÿ»", '{"answer": 2.0}', {"chain_of_thought": "Two steps,\nthen divide."},
     ["kiln_tool::subtract_numbers", "kiln_tool::add_numbers", "kiln_tool::divide_numbers"], [
        {"role": "assistant", "content": [{"type": "text", "text": "Two steps."}, {"type": "text", "text": "First these."}],
         "tool_calls": [call("call_s", "subtract", {"a": 18, "b": 6}), call("call_p", "add", {"a": 3, "b": 3})]},
        {"role": "tool", "content": "12", "tool_call_id": "call_s"},
        {"role": "tool", "content": "6", "tool_call_id": "call_p"},
        {"role": "assistant", "content": "Now divide — «ok»", "tool_calls": [call("call_d", "divide", {"a": 12, "b": 6})]},
        {"role": "tool", "content": "2.0", "tool_call_id": "call_d"},
        {"role": "assistant", "content": '{"answer": 2.0}'},
    ]),
    ("Wie viel ist 7 mal 6?", '{"answer": 42}', None, ["kiln_tool::multiply_numbers"], [
        {"role": "assistant", "content": "", "tool_calls": [call("call_m", "multiply", {"a": 7, "b": 6})]},
        {"role": "tool", "content": "42", "tool_call_id": "call_m"},
        {"role": "assistant", "content": '{"answer": 42}'},
    ]),
    ("What is 1 + 1, without tools?", '{"answer": 2}', {"reasoning": "Easy."}, None, None),
]


def make_project(folder):
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    project = Project(name="Tools", path=folder / "project.kiln")
    project.save_to_file()
    task = Task(parent=project, name="Arithmetic", instruction=SYSTEM,
                thinking_instruction="Decide which tools to call.",
                output_json_schema=json.dumps({"type": "object", "properties": {"answer": {"type": "number"}},
                                               "required": ["answer"]}))
    task.save_to_file()
    ids = []
    for text, final, intermediate, tools, trace in RUNS:
        run_config = KilnAgentRunConfigProperties(
            model_name="local::qwen3", model_provider_name="openai_compatible", prompt_id="simple_prompt_builder",
            structured_output_mode="json_schema",
            tools_config=ToolsRunConfig(tools=tools) if tools else None)
        source = DataSource(type=DataSourceType.synthetic, run_config=run_config,
                            properties={"model_name": "local::qwen3", "model_provider": "openai_compatible",
                                        "adapter_name": "kiln_openai_compatible_adapter"})
        full_trace = None
        if trace is not None:
            full_trace = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}] + trace
        run = TaskRun(parent=task, input=text, input_source=DataSource(type=DataSourceType.human,
                                                                        properties={"created_by": "ana"}),
                      output=TaskOutput(output=final, source=source), intermediate_outputs=intermediate,
                      trace=full_trace)
        run.save_to_file()
        ids.append(run.id)
    split = DatasetSplit(parent=task, name="tools split", splits=[
        DatasetSplitDefinition(name="train", percentage=0.75), DatasetSplitDefinition(name="test", percentage=0.25)],
        split_contents={"train": [ids[1], ids[0], ids[2]], "test": [ids[3]]}, filter="all")
    split.save_to_file()
    return split


async def goldens(split):
    formatter = DatasetFormatter(split, SYSTEM)
    files = {}
    runs = {run.id: run for run in split.parent_task().runs()}
    for format_type in DatasetFormat:
        for strategy in STRATEGIES:
            thinking = "Decide which tools to call." if strategy == ChatStrategy.two_message_cot else None
            for part, members in split.split_contents.items():
                lines = []
                for run_id in members:
                    run = runs[run_id]
                    try:
                        tools = await formatter._get_tool_definitions_from_config(run)
                        chat = build_training_chat(task_run=run, system_message=SYSTEM, data_strategy=strategy,
                                                   thinking_instructions=thinking)
                        example = FORMAT_GENERATORS[format_type](chat, tools=tools)
                        lines.append(json.dumps(example, ensure_ascii=False))
                    except Exception as error:
                        lines.append("ERROR " + str(error))
                files[f"{format_type.value}--{strategy.value}--{part}.jsonl"] = "".join(line + "\n" for line in lines)
    return files


def blank(text):
    return re.sub(r'("name": "task_response", "id": )"[^"]*"', r'\1""', text)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    check = "--check" in sys.argv
    if check:
        project = Project.load_from_file(out / "project" / "project.kiln")
        split = project.tasks()[0].dataset_splits()[0]
    else:
        split = make_project(out / "project")
    files = asyncio.run(goldens(split))
    different = []
    for name, text in sorted(files.items()):
        path = out / name
        if check:
            if not path.exists() or blank(path.read_text()) != blank(text):
                different.append(name)
        else:
            path.write_text(text)
    print(json.dumps({"files": len(files), "different": different}))
    sys.exit(1 if different else 0)
