"""Prompt flow's code-first lifecycle, written as its examples write it: test a flow and one node, run it
over data with a column mapping and a variant, evaluate that run, read the metrics, compare the runs; then
what scripts read of a run and catch."""

import json
from pathlib import Path

from promptflow._sdk._errors import RunNotFoundError
from promptflow.client import PFClient
from promptflow.exceptions import UserErrorException


def show(label, value):
    print("RESULT", label, json.dumps(value, sort_keys=True))


def main():
    here = Path(__file__).parent
    pf = PFClient()
    show("test", pf.test(flow=str(here / "greet"), inputs={"name": " ada lovelace "}))
    show("node", pf.test(flow=str(here / "greet"), node="tidy", inputs={"name": " alan "}))
    base = pf.run(flow=str(here / "greet"), data=str(here / "data.jsonl"), column_mapping={"name": "${data.name}"},
                  variant="${compose.variant_1}")
    details = pf.get_details(base)
    show("details", json.loads(details[["inputs.name", "outputs.message"]].to_json(orient="records")))
    evaluation = pf.run(flow=str(here / "check"), data=str(here / "data.jsonl"), run=base,
                        column_mapping={"message": "${run.outputs.message}", "expected": "${data.expected}"})
    show("metrics", pf.get_metrics(evaluation))
    show("status", [base.status, evaluation.status])
    pf.visualize([base, evaluation])
    metrics = base.properties["system_metrics"]
    show("system metrics", {k: metrics[k] for k in ("__pf__.lines.completed", "__pf__.lines.failed", "total_tokens")})
    try:
        pf.runs.get("no_such_run")
    except RunNotFoundError as error:
        show("missing run", [type(error).__name__, isinstance(error, UserErrorException)])
    show("no runs", pf.runs.list(max_results=0))


if __name__ == "__main__":
    main()
