"""What a person does in Kiln between kiln-pipe runs, done with kiln-ai 1.2.0 itself, and what Kiln then sees.

  edit PROJECT.kiln           rates one run (with requirement ratings), repairs one, tags one, edits the task's
                              description; prints the edits as JSON
  check PROJECT.kiln [EDITS]  loads everything with Kiln's models (0 errors or exit 1), runs Kiln's dataset
                              formatter over every split, builds an adapter from every run config, and prints a
                              JSON summary; with EDITS (the JSON `edit` printed) it reports whether each is intact

Used by KilnRoundTrip (Tests/KilnCommandsTests). HOME must be a scratch folder: Kiln's settings live there.
"""
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from kiln_ai.adapters.adapter_registry import adapter_for_task
from kiln_ai.adapters.fine_tune.dataset_formatter import DatasetFormatter, DatasetFormat
from kiln_ai.datamodel import Project, TaskOutput, TaskOutputRating, DataSource, DataSourceType
from kiln_ai.datamodel.datamodel_enums import ChatStrategy
from kiln_ai.datamodel.task_output import RequirementRating
from kiln_ai.utils.config import Config


def edit(project_file):
    project = Project.load_from_file(project_file)
    task = project.tasks()[0]
    runs = sorted(task.runs(), key=lambda run: run.id)
    rated, repaired, tagged = runs[0], runs[1], runs[2]
    rated.output.rating = TaskOutputRating(
        type="five_star", value=5,
        requirement_ratings={r.id: RequirementRating(value=4 if r.type == "five_star" else 1, type=r.type)
                             for r in task.requirements})
    rated.save_to_file()
    # The two fields require each other and each assignment is validated: the first is set without validation.
    object.__setattr__(repaired, "repair_instructions", "Be warmer.")
    repaired.repaired_output = TaskOutput(
        output=repaired.output.output, source=DataSource(type=DataSourceType.human, properties={"created_by": "ana"}))
    repaired.save_to_file()
    tagged.tags = tagged.tags + ["golden"]
    tagged.save_to_file()
    task.description = "Edited in Kiln."
    task.save_to_file()
    print(json.dumps({"task": task.id, "rated": rated.id, "repaired": repaired.id, "tagged": tagged.id,
                      "outputs": {run.id: run.output.output for run in (rated, repaired, tagged)}}))


def check(project_file, edits):
    project = Project.load_from_file(project_file)
    summary = {"project": project.name, "tasks": []}
    for task in project.tasks():
        runs = task.runs()
        ids = {run.id for run in runs}
        for run in runs:
            type(run).model_validate(run.model_dump())
        entry = {"name": task.name, "id": task.id, "description": task.description, "runs": len(runs),
                 "requirements": [r.name for r in task.requirements], "splits": [], "evals": [], "adapters": {}}
        for split in task.dataset_splits():
            references = [i for members in split.split_contents.values() for i in members]
            lines = {}
            for part, members in split.split_contents.items():
                formatter = DatasetFormatter(split, "system")
                with tempfile.TemporaryDirectory() as folder:
                    path = asyncio.run(formatter.dump_to_file(
                        part, DatasetFormat.OPENAI_CHAT_JSONL, ChatStrategy.single_turn, Path(folder) / "out.jsonl"))
                    lines[part] = len(path.read_text().splitlines())
            entry["splits"].append({
                "name": split.name, "references": len(references), "unique": len(set(references)),
                "missing": [i for i in references if i not in ids], "formatted_lines": lines,
                "contents": {part: len(members) for part, members in split.split_contents.items()}})
        for evaluation in task.evals():
            configs = []
            for config in evaluation.configs():
                eval_runs = config.runs()
                for run in eval_runs:
                    fields = {k: v for k, v in run.model_dump().items() if k not in ("path", "model_type")}
                    type(run)(parent=config, **fields)
                configs.append({"id": config.id, "model": config.model_name, "runs": len(eval_runs),
                                "dangling": [r.id for r in eval_runs if r.dataset_id not in ids],
                                "scores": sorted({k for r in eval_runs for k in r.scores})})
            entry["evals"].append({"name": evaluation.name, "current": evaluation.current_config_id,
                                   "scores": [s.name for s in evaluation.output_scores], "configs": configs})
        # Kiln's own settings name each OpenAI-compatible provider a run config uses (as the app's settings would).
        configs = task.run_configs()
        providers = sorted({c.run_config_properties.model_name.split("::")[0] for c in configs
                            if c.run_config_properties.model_provider_name == "openai_compatible"})
        Config.shared().openai_compatible_providers = [
            {"name": name, "base_url": "http://127.0.0.1:9/v1", "api_key": "unused"} for name in providers]
        for config in configs:
            try:
                adapter = adapter_for_task(task, run_config_properties=config.run_config_properties)
                entry["adapters"][config.name] = type(adapter).__name__
            except Exception as error:  # reported, and the test fails on it
                entry["adapters"][config.name] = f"error: {error}"
        if edits and edits["task"] == task.id:
            by_id = {run.id: run for run in runs}
            rated, repaired, tagged = by_id.get(edits["rated"]), by_id.get(edits["repaired"]), by_id.get(edits["tagged"])
            entry["edits"] = {
                "rated": bool(rated and rated.output.rating and rated.output.rating.value == 5
                              and len(rated.output.rating.requirement_ratings) == len(task.requirements)
                              and rated.output.output == edits["outputs"][rated.id]),
                "repaired": bool(repaired and repaired.repair_instructions == "Be warmer."
                                 and repaired.repaired_output is not None
                                 and repaired.output.output == edits["outputs"][repaired.id]),
                "tagged": bool(tagged and "golden" in tagged.tags and "kiln_pipe" in tagged.tags),
                "description": task.description == "Edited in Kiln.",
            }
        summary["tasks"].append(entry)
    print(json.dumps(summary))


if __name__ == "__main__":
    if sys.argv[1] == "edit":
        edit(sys.argv[2])
    else:
        check(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
