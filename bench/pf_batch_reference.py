"""Record promptflow 1.18.5's batch and evaluation results for tests/server/conformance_batch (by hand).

    PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true \
        ~/.cache/flowline/pf-venv/bin/python bench/pf_batch_reference.py tests/server/conformance_batch

Runs `classify` over data.jsonl (one line fails), then `evaluate` over that run with
groundtruth=${data.answer} and prediction=${run.outputs.category}, and writes expected.json with
both runs' per-line outputs (by line_number) and the evaluation's metrics.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    from promptflow.client import PFClient

    root = Path(sys.argv[1])
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
