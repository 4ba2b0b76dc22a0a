"""Loads a Kiln project with the kiln-ai library (the reference reader) and prints a JSON summary of what it
sees: every task, run and dataset split is validated by kiln-ai's own models on load, runs are re-validated,
structured outputs are parsed, and split contents must name existing runs. Used by KilnProjectWriting."""
import json
import sys

from kiln_ai.datamodel import Project

project = Project.load_from_file(sys.argv[1])
summary = {"project": project.name, "tasks": []}
for task in project.tasks():
    runs = task.runs()
    ids = {run.id for run in runs}
    entry = {"name": task.name, "id": task.id, "runs": len(runs), "requirements": [r.name for r in task.requirements],
             "sources": sorted({run.output.source.properties.get("adapter_name", "") for run in runs}), "splits": []}
    for run in runs:
        type(run).model_validate(run.model_dump())
        if task.output_json_schema:
            json.loads(run.output.output)
    for split in task.dataset_splits():
        entry["splits"].append({
            "name": split.name, "filter": split.filter,
            "contents": {name: len(members) for name, members in split.split_contents.items()},
            "missing": [i for members in split.split_contents.values() for i in members if i not in ids],
        })
    entry["evals"] = []
    for evaluation in task.evals():
        configs = evaluation.configs()
        eval_runs = []
        for config in configs:
            for run in config.runs():
                # Rebuilt under its config, so the validators that compare scores with the eval's run too.
                fields = {key: value for key, value in run.model_dump().items() if key not in ("path", "model_type")}
                type(run)(parent=config, **fields)
                eval_runs.append(run)
        entry["evals"].append({
            "name": evaluation.name, "scores": [score.name for score in evaluation.output_scores],
            "configs": [config.config_type.value for config in configs], "runs": len(eval_runs),
            "dangling": [run.id for run in eval_runs if run.dataset_id not in ids],
        })
    entry["run_configs"] = len(task.run_configs())
    summary["tasks"].append(entry)
print(json.dumps(summary))
