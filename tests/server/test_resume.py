"""`run create --resume-from`: the resumed lines run with every setting of the run (line timeout and
workers too), the copied lines are the new run's from its start (they survive SIGTERM and Ctrl-C),
and what cannot be resumed is refused in words the user would type."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import run_cli, write_flow

# Line 1 fails until the file `fixed` exists; then it marks `started` and waits (for a signal, or its deadline).
_TOOL = '''
import time
from pathlib import Path

from flowline import tool


@tool
def t(n: int) -> int:
    here = Path(__file__).parent
    if n == 1:
        if not (here / "fixed").exists():
            raise ValueError("line 1 fails")
        (here / "started").touch()
        time.sleep(60)
    return n * 10
'''
_FLOW = """
    inputs:
      n: {type: int}
    outputs:
      out: {reference: "${t.output}"}
    nodes:
    - name: t
      type: python
      source: {type: code, path: t.py}
      inputs: {n: "${inputs.n}"}
"""


def _first_run(tmp_path: Path, flow_dir: Path, *args: str) -> dict[str, Any]:
    write_flow(flow_dir, {"t.py": _TOOL, "flow.dag.yaml": _FLOW})
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"n": n}) + "\n" for n in range(3)))
    first = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(tmp_path / "d.jsonl"), "--name", "first",
                    *args)
    assert first.code == 0, first.stderr
    record: dict[str, Any] = first.json()
    assert (record["lines_completed"], record["lines_failed"]) == (2, 1)
    return record


def _meta(name: str) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((Path(os.environ["FLOWLINE_HOME"]) / ".runs" / name / "meta.json").read_text())
    return meta


def test_a_resumed_run_keeps_the_runs_line_timeout_and_workers_unless_given(tmp_path: Path, flow_dir: Path) -> None:
    _first_run(tmp_path, flow_dir, "--line-timeout", "1", "--workers", "3")
    (flow_dir / "fixed").touch()
    started = time.monotonic()
    # The shell's PF_* variables do not replace the run's own settings.
    resumed = run_cli("run", "create", "--resume-from", "first", "--name", "again",
                      env={**os.environ, "PF_LINE_TIMEOUT_SEC": "600", "PF_WORKER_COUNT": "5"})
    assert time.monotonic() - started < 30
    assert resumed.code == 0, resumed.stderr
    row = {r["line_number"]: r for r in run_cli("run", "show-details", "--name", "again", "--json").json()}[1]
    assert row["error"]["message"] == "Line 1 execution timeout for exceeding 1 seconds: node 't' was still running."
    assert (_meta("again")["line_timeout"], _meta("again")["workers"]) == (1, 3)
    given = run_cli("run", "create", "--resume-from", "first", "--name", "longer", "--line-timeout", "1.5",
                    "--workers", "2")
    assert given.code == 0, given.stderr
    assert (_meta("longer")["line_timeout"], _meta("longer")["workers"]) == (1.5, 2)


def _stopped_resume(flow_dir: Path, name: str, how: signal.Signals) -> str:
    """Resume `first` as ``name``, send ``how`` once line 1 runs again; returns stderr."""
    (flow_dir / "fixed").touch()
    (flow_dir / "started").unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--resume-from", "first",
                                "--name", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (flow_dir / "started").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(how)
    _, stderr = process.communicate(timeout=60)
    return stderr


def test_the_copied_lines_of_a_resumed_run_survive_sigterm_and_ctrl_c(tmp_path: Path, flow_dir: Path) -> None:
    _first_run(tmp_path, flow_dir)
    runs = Path(os.environ["FLOWLINE_HOME"]) / ".runs"
    _stopped_resume(flow_dir, "terminated", signal.SIGTERM)
    outputs = [json.loads(line) for line in (runs / "terminated" / "flow_outputs" / "output.jsonl").read_text()
               .splitlines()]
    assert outputs == [{"line_number": 0, "out": 0}, {"line_number": 2, "out": 20}]
    shown = run_cli("run", "show", "--name", "terminated").json()
    assert (shown["status"], shown["lines_completed"]) == ("Failed", 2)
    assert "after 2 of 3 lines" in shown["reason"]

    stderr = _stopped_resume(flow_dir, "interrupted", signal.SIGINT)
    assert stderr.endswith("flowline: run 'interrupted' interrupted; completed lines are kept. Continue it with "
                           "`flowline run create --resume-from interrupted`.\n")
    shown = run_cli("run", "show", "--name", "interrupted").json()
    assert (shown["status"], shown["lines_completed"], shown["lines_failed"]) == ("Canceled", 2, 0)


def test_refusals_show_the_settings_as_typed(tmp_path: Path, flow_dir: Path) -> None:
    _first_run(tmp_path, flow_dir, "--environment-variables", "Q=secret-ish")
    fix = "leave it out, or start a new run.\n"
    for given, expected in (
            (("--connections", "t.connection=b"),
             "--resume-from first runs as that run ran, without --connections; --connections t.connection=b differs"),
            (("--run", "first"), "--resume-from first runs as that run ran, without --run; --run first differs"),
            (("--column-mapping", "n=${data.m}"),
             "--resume-from first runs with that run's column mapping (n='${data.n}'); --column-mapping "
             "n='${data.m}' differs"),
            (("--environment-variables", "Q=other"),
             "--resume-from first runs with that run's environment variables; --environment-variables differs in Q")):
        refused = run_cli("run", "create", "--resume-from", "first", *given)
        assert (refused.code, refused.stderr) == (2, f"flowline: error: {expected}: {fix}")
        assert "secret-ish" not in refused.stderr


def test_a_run_whose_data_changed_or_whose_parent_run_is_gone_is_not_resumed(tmp_path: Path, flow_dir: Path) -> None:
    _first_run(tmp_path, flow_dir)
    (tmp_path / "d.jsonl").write_text('{"n": 0}\n{"n": 1}\n')
    shrunk = run_cli("run", "create", "--resume-from", "first")
    assert (shrunk.code, shrunk.stderr) == (
        2, "flowline: error: Run 'first' ran over 3 lines, and its data now gives 2: the data changed since, and "
           "resuming would keep lines of the old data beside lines of the new. Start a new run (without "
           "--resume-from).\n")
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"n": n}) + "\n" for n in range(3)))
    evaluation = run_cli("run", "create", "--flow", str(flow_dir), "--run", "first", "--column-mapping",
                         "n=${run.outputs.out}", "--name", "evaluation")
    assert evaluation.code == 0, evaluation.stderr
    assert run_cli("run", "delete", "--name", "first").code == 0
    orphan = run_cli("run", "create", "--resume-from", "evaluation")
    assert (orphan.code, orphan.stderr) == (
        2, "flowline: error: Run 'evaluation' cannot be resumed: it evaluates run 'first' (its --run), which no "
           "longer exists. Start a new run.\n")
