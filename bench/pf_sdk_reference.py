"""Record what promptflow 1.18.5's Python SDK answers, for tests/server/test_client.py (by hand).

    HOME=$(mktemp -d) PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true \
        ~/.cache/flowline/pf-venv/bin/python bench/pf_sdk_reference.py tests/server/conformance_sdk/expected.json

With tests/server/conformance_batch's flows: ``PFClient.test`` of `classify`, ``PFClient.run`` of it over
data.jsonl (one line fails) with a display name and tags, ``get_details`` of that run (its columns and
records), an evaluation run over it and its ``get_metrics`` and details columns, and ``runs.update``
(a new display name and tags). promptflow runs batch lines in spawned processes, which import this
file again: everything happens under the ``__main__`` guard.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

BATCH = Path(__file__).resolve().parent.parent / "tests" / "server" / "conformance_batch"


def record() -> dict[str, object]:
    """promptflow's answers, as expected.json holds them."""
    from promptflow.client import PFClient

    pf = PFClient()
    out: dict[str, object] = {"test": pf.test(flow=str(BATCH / "classify"), inputs={"text": "hello world"})}
    base = pf.run(flow=str(BATCH / "classify"), data=str(BATCH / "data.jsonl"), column_mapping={"text": "${data.text}"},
                  name="sdk_base", display_name="base run", tags={"k": "v"})
    details = pf.get_details(base)
    out["details_columns"] = list(details.columns)
    out["details_records"] = json.loads(details.to_json(orient="records"))
    out["run_properties_keys"] = sorted(base.properties)
    evaluation = pf.run(flow=str(BATCH / "evaluate"), data=str(BATCH / "data.jsonl"), run=base, name="sdk_eval",
                        column_mapping={"groundtruth": "${data.answer}", "prediction": "${run.outputs.category}"})
    out["metrics"] = pf.get_metrics(evaluation)
    out["eval_columns"] = list(pf.get_details(evaluation).columns)
    updated = pf.runs.update(base, display_name="renamed", tags={"x": "y"})
    out["updated"] = {"display_name": updated.display_name, "tags": updated.tags}
    return out


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    Path(sys.argv[1]).write_text(json.dumps(record(), indent=1) + "\n", encoding="utf-8")
