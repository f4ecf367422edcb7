"""Record promptflow 1.18.5's batch and evaluation results for tests/server/conformance_batch (by hand).

    PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true \
        ~/.cache/flowline/pf-venv/bin/python bench/pf_batch_reference.py tests/server/conformance_batch

Runs `classify` over data.jsonl (one line fails), then `evaluate` over that run with
groundtruth=${data.answer} and prediction=${run.outputs.category}, and writes expected.json with
both runs' per-line outputs (by line_number) and the evaluation's metrics.

Given one case folder instead (tests/server/conformance_batch/<case>: flow.dag.yaml and data.jsonl),
it runs that flow over data.jsonl with each data column mapped to the input of its name and writes
the case's expected.json: per line number, {"status", "outputs"} or {"status", "error": {"code",
"message", "parameters"}}, read from the run's flow_artifacts (promptflow's own per-line records;
`get_details` cannot tabulate lines that failed before they started). "code" is promptflow's
innermost error code, "parameters" the values its message was formatted with; "run_error" is
what the run itself raised, if it did.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path


def _innermost_code(error: dict) -> str:
    code = error["code"]
    inner = error.get("innerError")
    while inner:
        code, inner = inner["code"], inner.get("innerError")
    return code


def record_case(folder: Path) -> dict[str, dict]:
    """Run the case's flow over its data.jsonl; promptflow's per-line status, outputs or error."""
    from promptflow.client import PFClient

    client = PFClient()
    first = json.loads((folder / "data.jsonl").read_text().splitlines()[0])
    name = f"{folder.name}_{uuid.uuid4().hex[:8]}"
    result: dict = {}
    try:
        client.run(flow=str(folder), data=str(folder / "data.jsonl"), name=name,
                   column_mapping={key: f"${{data.{key}}}" for key in first}, stream=False)
    except Exception as exc:  # promptflow 1.18.5 can fail the run after its lines ran; recorded as such
        result["run_error"] = f"{type(exc).__name__}: {exc}"
    lines = {}
    for path in sorted((Path.home() / ".promptflow" / ".runs" / name / "flow_artifacts").glob("*.jsonl")):
        for text in path.read_text().splitlines():
            record = json.loads(text)
            info = record["run_info"]
            entry = {"status": info["status"]}
            if info.get("error"):
                error = info["error"]
                entry["error"] = {"code": _innermost_code(error), "message": error["message"],
                                  "parameters": error.get("messageParameters") or {}}
            else:
                entry["outputs"] = info["output"]
            lines[str(record["line_number"])] = entry
    return {**result, "lines": lines}


def main() -> None:
    from promptflow.client import PFClient

    root = Path(sys.argv[1])
    if (root / "flow.dag.yaml").exists():
        case = record_case(root)
        (root / "expected.json").write_text(json.dumps(case, indent=2, sort_keys=True) + "\n")
        print(json.dumps(case, indent=2))
        return
    client = PFClient()
    base = client.run(flow=str(root / "classify"), data=str(root / "data.jsonl"),
                      column_mapping={"text": "${data.text}"}, stream=False)
    evaluation = client.run(flow=str(root / "evaluate"), data=str(root / "data.jsonl"), run=base,
                            column_mapping={"groundtruth": "${data.answer}", "prediction": "${run.outputs.category}"},
                            stream=False)

    def outputs(run) -> dict[str, dict]:
        details = client.get_details(run, all_results=True)
        rows = json.loads(details.to_json(orient="records"))
        result = {}
        for row in rows:
            number = row.get("outputs.line_number", row.get("inputs.line_number"))
            values = {k[len("outputs."):]: v for k, v in row.items()
                      if k.startswith("outputs.") and k != "outputs.line_number"}
            if any(v is not None for v in values.values()):
                result[str(number)] = values
        return result

    expected = {"classify": outputs(base), "evaluate": outputs(evaluation),
                "metrics": client.get_metrics(evaluation), "classify_status": base.status,
                "evaluate_status": evaluation.status}
    (root / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
