"""Aggregation failures, run status and the tools' working directory, as promptflow 1.18.5 has them.

The promptflow values were observed by running promptflow 1.18.5 (its own venv, telemetry and
tracing off, a HOME of its own) on the same flows; what it printed is quoted at each test.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, write_flow

CONFORMANCE = Path(__file__).resolve().parent / "conformance"

AGG_FLOW = """
inputs:
  x: {type: string, default: a}
outputs:
  y: {type: string, reference: "${echo.output}"}
nodes:
- name: echo
  type: python
  source: {type: code, path: echo.py}
  inputs: {x: "${inputs.x}"}
- name: agg
  type: python
  source: {type: code, path: agg.py}
  inputs: {values: "${echo.output}"}
  aggregation: true
"""

ECHO = """
from promptflow.core import tool

@tool
def echo(x: str) -> str:
    if x == "bad":
        raise ValueError("bad line")
    return x + "!"
"""

AGG_FAILS = """
from promptflow.core import tool

@tool
def agg(values: list) -> dict:
    raise RuntimeError("aggregation broke")
"""

AGG_COUNTS = """
from promptflow.core import tool, log_metric

@tool
def agg(values: list) -> dict:
    log_metric("n", len(values))
    return {"n": len(values)}
"""


def _home(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "FLOWLINE_HOME": str(tmp_path / "home")}


def test_failing_aggregation_keeps_the_line_outputs_and_exit_0() -> None:
    # `pf flow test` on this flow: logs "Node agg in line None failed. Exception: Execution failure in
    # 'agg': (RuntimeError) aggregation broke." with its traceback, prints {"y": "a!"} and exits 0.
    result = run_cli("flow", "test", "--flow", str(CONFORMANCE / "aggregation_fails"))
    assert result.code == 0, result.stderr
    assert result.json() == {"y": "a!"}
    assert ("Aggregation node 'agg' failed: RuntimeError: aggregation broke; the line completed, its outputs "
            "follow.") in result.stderr
    assert "Traceback" not in result.stderr


def test_aggregation_reading_only_flow_inputs_is_not_run_by_flow_test() -> None:
    # `pf flow test`: only node echo runs ("Executing node echo"), exit 0; its agg.py would raise.
    result = run_cli("flow", "test", "--flow", str(CONFORMANCE / "aggregation_inputs_only"))
    assert result.code == 0, result.stderr
    assert "agg" not in result.stderr


def _batch(tmp_path: Path, agg: str, rows: list[str], name: str) -> tuple[int, str, dict[str, object]]:
    flow = write_flow(tmp_path / "flow", {"flow.dag.yaml": AGG_FLOW, "echo.py": ECHO, "agg.py": agg})
    data = tmp_path / f"{name}.jsonl"
    data.write_text("".join(json.dumps({"x": x}) + "\n" for x in rows))
    env = _home(tmp_path)
    created = run_cli("run", "create", "--flow", str(flow), "--data", str(data), "--column-mapping",
                      "x=${data.x}", "--name", name, env=env)
    shown = run_cli("run", "show", "--name", name, env=env)
    return created.code, created.stderr, shown.json()


def test_run_with_failing_aggregation_is_completed(tmp_path: Path) -> None:
    # `pf run create` (2 good lines, agg raising): "Run status: "Completed"", exit 0; `pf run show` gives
    # "status": "Completed" with error "First error message is: Execution failure in 'agg': ...".
    code, stderr, record = _batch(tmp_path, AGG_FAILS, ["a", "b"], "aggfail")
    assert code == 0
    assert (record["status"], record["lines_completed"], record["lines_failed"]) == ("Completed", 2, 0)
    assert record["reason"] == "the aggregation failed with RuntimeError: aggregation broke"
    assert ("run 'aggfail': Completed, 2 completed, 0 failed of 2 lines: the aggregation failed with "
            "RuntimeError: aggregation broke\n") in stderr


def test_run_whose_lines_all_fail_is_completed_and_still_aggregates(tmp_path: Path) -> None:
    # `pf run create` (every line raising): "Run status: "Completed"", exit 0; the aggregation still runs,
    # over empty lists (`pf run show-metrics`: {"n": 0}).
    code, stderr, record = _batch(tmp_path, AGG_COUNTS, ["bad", "bad"], "allbad")
    assert code == 0
    assert (record["status"], record["lines_completed"], record["lines_failed"]) == ("Completed", 0, 2)
    assert record["metrics"] == {"n": 0}
    assert "run 'allbad': Completed, 0 completed, 2 failed of 2 lines\n" in stderr


PROBE = """
import os
from promptflow.core import tool

AT_IMPORT = open("data.txt").read().strip()

@tool
def probe(x: str) -> dict:
    return {"at_import": AT_IMPORT, "transcript": open("./transcript.txt").read().strip(),
            "extra": open("extra.txt").read().strip() if os.path.exists("extra.txt") else None,
            "inner": open("pkgdir/inner.txt").read().strip() if os.path.exists("pkgdir/inner.txt") else None,
            "file": os.path.realpath(__file__)}
"""

CWD_FLOW = """
inputs:
  x: {type: string, default: a}
outputs:
  out: {type: object, reference: "${probe.output}"}
nodes:
- name: probe
  type: python
  source: {type: code, path: probe.py}
  inputs: {x: "${inputs.x}"}
"""


def _cwd_flow(tmp_path: Path, includes: bool) -> Path:
    shared = write_flow(tmp_path / "shared", {"extra.txt": "shared-file", "pkgdir/inner.txt": "in-dir"})
    text = CWD_FLOW + ("additional_includes:\n- ../shared/extra.txt\n- ../shared/pkgdir\n" if includes else "")
    flow = write_flow(tmp_path / "flow", {"flow.dag.yaml": text, "probe.py": PROBE, "data.txt": "flow-data",
                                          "transcript.txt": "transcript"})
    assert shared.is_dir()
    return flow


def test_tools_run_in_the_flow_folder(tmp_path: Path) -> None:
    # `pf flow test` from another directory: os.getcwd() is the flow folder at import and at run time,
    # open('data.txt') and open('./transcript.txt') read the flow's files.
    flow = _cwd_flow(tmp_path, includes=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("flow", "test", "--flow", "../flow", cwd=elsewhere)
    assert result.code == 0, result.stderr
    assert result.json()["out"] == {"at_import": "flow-data", "transcript": "transcript", "extra": None,
                                    "inner": None, "file": str(flow.resolve() / "probe.py")}


def test_included_files_are_visible_by_name_without_copying(tmp_path: Path) -> None:
    # promptflow copies the flow and its additional_includes into a temporary folder and runs there (in
    # `flow test` and batch runs: extra.txt and pkgdir/ are readable by name). Flowline links them
    # instead, and the tool's module still loads from the flow folder.
    flow = _cwd_flow(tmp_path, includes=True)
    want = {"at_import": "flow-data", "transcript": "transcript", "extra": "shared-file", "inner": "in-dir",
            "file": str(flow.resolve() / "probe.py")}
    result = run_cli("flow", "test", "--flow", str(flow), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.json()["out"] == want
    node = run_cli("flow", "test", "--flow", str(flow), "--node", "probe", "--inputs", "x=z", cwd=tmp_path)
    assert node.code == 0, node.stderr
    assert node.json() == want
    data = tmp_path / "data.jsonl"
    data.write_text('{"x": "a"}\n{"x": "b"}\n')
    env = _home(tmp_path)
    for processes in ("0", "2"):
        name = f"cwd{processes}"
        created = run_cli("run", "create", "--flow", "flow", "--data", "data.jsonl", "--column-mapping",
                          "x=${data.x}", "--name", name, "--worker-processes", processes, cwd=tmp_path, env=env)
        assert created.code == 0, created.stderr
        details = run_cli("run", "show-details", "--name", name, "--json", env=env).json()
        assert [row["outputs"]["out"] for row in details] == [want, want]
    assert not any(p.is_symlink() for p in flow.iterdir())  # nothing was added to the user's folder
