"""Record promptflow 1.18.5's outputs for the conformance flows (run by hand, with promptflow's Python).

    PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true \
        ~/.cache/flowline/pf-venv/bin/python bench/pf_reference.py tests/server/conformance

For every case folder it reads cases.json (a list of {inputs, variant?, node?}) and writes
expected.json: one entry per case, {"outputs": ...} or {"error": "<exception type>", "message": ...}
(a streamed output, a chat flow's answer, is recorded as its chunks joined; an image file promptflow
wrote as `<folder>/.promptflow/output/<random name>.png` is recorded as `<flow>/.promptflow/output/<file>.png`).
The conformance tests compare Flowline's `flowline flow test` against these files.

Flows that need connections or tool packages (tests/server/corpus) are recorded the same way, from a
promptflow HOME where `pf connection create -f ...` made them, with PYTHONPATH naming the packages.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path


def _drain(outputs: object) -> object:
    """Streamed outputs joined: for a chat flow `PFClient.test` returns the chat output's generator
    itself (streaming), whose chunks `pf flow test` prints joined."""
    if isinstance(outputs, dict):
        return {k: "".join(str(chunk) for chunk in v) if isinstance(v, Iterator) else v for k, v in outputs.items()}
    return outputs


def _paths(value: object, folder: Path) -> object:
    """Image files named as above: promptflow names them at random, under the folder it ran."""
    if isinstance(value, dict):
        return {k: _paths(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_paths(v, folder) for v in value]
    output = str(folder.resolve() / ".promptflow" / "output") + "/"
    if isinstance(value, str) and value.startswith(output):
        return "<flow>/.promptflow/output/<file>" + Path(value).suffix
    return value


def record(folder: Path) -> list[dict]:
    from promptflow.client import PFClient

    client = PFClient()
    results = []
    for case in json.loads((folder / "cases.json").read_text()):
        try:
            outputs = client.test(flow=str(folder), inputs=case.get("inputs") or {}, variant=case.get("variant"),
                                  node=case.get("node"))
            results.append({"outputs": _paths(json.loads(json.dumps(_drain(outputs), default=str)), folder)})
        except Exception as exc:  # the failure itself is what is recorded
            results.append({"error": type(exc).__name__, "message": str(exc)})
    return results


def main() -> None:
    root = Path(sys.argv[1])
    if (root / "cases.json").exists():
        folders = [root]
    else:
        folders = sorted(p for p in root.iterdir() if (p / "cases.json").exists())
    for folder in folders:
        expected = record(folder)
        (folder / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
        print(folder.name, json.dumps(expected)[:300])


if __name__ == "__main__":
    main()
