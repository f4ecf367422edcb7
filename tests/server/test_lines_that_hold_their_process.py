"""Lines whose tools hold or end the process they run in, and node outputs that cannot leave a worker
process, through the real `flowline run create`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import one_node_flow, run_cli, write_flow

# A tool whose one call holds the GIL for 3 s (libc's sleep through ctypes.PyDLL, which keeps the GIL):
# the whole process stands still, and nothing in it can end the call.
_SLEEPER = '''
import ctypes
import time

from flowline import tool


@tool
def sl(s: float) -> str:
    if s == 98:
        ctypes.PyDLL(None).sleep(3)
        time.sleep(60)  # and then runs past its deadline
    time.sleep(s)
    return f"slept {s}"
'''
_SLEEPER_FLOW = """
    inputs:
      s: {type: double}
    outputs:
      o: {reference: "${sl.output}"}
    nodes:
    - name: sl
      type: python
      source: {type: code, path: sl.py}
      inputs: {s: "${inputs.s}"}
"""


def _sleep_run(tmp_path: Path, flow_dir: Path, seconds: list[float], *args: str) -> tuple[float, dict[int, Any]]:
    write_flow(flow_dir, {"sl.py": _SLEEPER, "flow.dag.yaml": _SLEEPER_FLOW})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"s": s}) + "\n" for s in seconds))
    started = time.monotonic()
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--name", "held",
                     "--line-timeout", "1", *args)
    elapsed = time.monotonic() - started
    assert result.code == 0 and "Traceback" not in result.stderr, result.stderr
    rows = run_cli("run", "show-details", "--name", "held", "--json").json()
    return elapsed, {row["line_number"]: row for row in rows}


def _timed_out(row: dict[str, Any]) -> None:
    assert row["status"] == "Failed"
    assert row["error"] == {"type": "LineExecutionTimeoutError",
                            "message": f"Line {row['line_number']} execution timeout for exceeding 1 seconds: "
                                       "node 'sl' was still running."}


def test_a_frozen_process_of_one_worker_process_is_ended_and_its_other_lines_run_again(
        tmp_path: Path, flow_dir: Path) -> None:
    """`--worker-processes 1` used to run the lines in the process of `run create`, where the frozen line
    held them all past their deadlines: the innocent lines failed with a false "still running"."""
    elapsed, rows = _sleep_run(tmp_path, flow_dir, [98, 0.3, 0.5, 0.2, 0.3], "--worker-processes", "1",
                               "--workers", "4")
    assert elapsed < 20
    _timed_out(rows[0])
    # Typed as the other lines' inputs are (it kept the data's raw 98).
    assert rows[0]["inputs"] == {"s": 98.0} and isinstance(rows[0]["inputs"]["s"], float)
    assert [rows[n]["outputs"] for n in range(1, 5)] == [{"o": f"slept {s}"} for s in (0.3, 0.5, 0.2, 0.3)]


def test_lines_in_threads_are_not_charged_for_the_time_the_process_stood_still(
        tmp_path: Path, flow_dir: Path) -> None:
    """The 0.1 s lines used to fail with "node 'sl' was still running" after the 3 s freeze."""
    elapsed, rows = _sleep_run(tmp_path, flow_dir, [0.1, 98, 0.2])
    assert elapsed < 15
    assert rows[0]["outputs"] == {"o": "slept 0.1"} and rows[2]["outputs"] == {"o": "slept 0.2"}
    _timed_out(rows[1])  # it runs on past its own second once the call returns
    logs = (Path(run_cli("run", "show", "--name", "held").json()["folder"]) / "logs.txt").read_text()
    assert "The process stood still for " in logs and "Run such tools with --worker-processes" in logs


def test_a_tool_ending_the_run_process_stores_the_run_with_its_line_and_resume_goes_on(
        tmp_path: Path, flow_dir: Path) -> None:
    """It used to leave the run Running until read as "the process running it stopped (killed, or the
    machine restarted)"."""
    ending = tmp_path / "ending"
    write_flow(flow_dir, {"t.py": f'''
        import os
        from pathlib import Path

        from flowline import tool


        @tool
        def t(text: str) -> str:
            if text == "b" and Path({str(ending)!r}).exists():
                os._exit(9)
            return text
    ''', "flow.dag.yaml": one_node_flow()})
    ending.touch()
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in "abc"))
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--workers", "1",
                     "--name", "ended")
    assert result.code == 9
    reason = ("a tool ended the process with os._exit(9) during line 1; the lines finished before are kept. Lines "
              "share the process of `run create`: run such tools with --worker-processes, where only their line "
              "fails. Resume with `flowline run create --resume-from ended`.")
    assert f"run 'ended': Failed: {reason}" in result.stderr
    shown = run_cli("run", "show", "--name", "ended").json()
    assert (shown["status"], shown["reason"], shown["lines_completed"], shown["lines_failed"]) == \
        ("Failed", reason, 1, 0)
    ending.unlink()
    resumed = run_cli("run", "create", "--resume-from", "ended", "--name", "again")
    assert resumed.code == 0, resumed.stderr
    assert (resumed.json()["status"], resumed.json()["lines_completed"]) == ("Completed", 3)


_LOCKED = '''
import threading

from flowline import tool


class Holder:
    def __init__(self, x: int) -> None:
        self.x, self.lock = x, threading.Lock()


@tool
def t(x: int) -> Holder:
    return Holder(x)
'''
_UNPICKLABLE_FLOW = """
    inputs:
      x: {type: int}
    outputs:
      o: {reference: "${s.output}"}
    nodes:
    - name: t
      type: python
      source: {type: code, path: t.py}
      inputs: {x: "${inputs.x}"}
    - name: s
      type: python
      source: {type: code, path: s.py}
      inputs: {v: "${t.output}"}
    - name: ag
      type: python
      source: {type: code, path: ag.py}
      inputs: {vals: "${%s.output}"}
      aggregation: true
"""


@pytest.mark.parametrize("aggregated", ["s", "t"])
def test_an_output_pickle_refuses_stays_in_its_worker_process_unless_the_aggregation_reads_it(
        tmp_path: Path, flow_dir: Path, aggregated: str) -> None:
    """Such an output used to hang its line until the line timeout (600 s), which was then reported as
    the cause. promptflow 1.18.5 pickles every node output of a line: its worker crashes and the line
    fails with ProcessCrashError, even when only the line's own nodes read the object."""
    write_flow(flow_dir, {"t.py": _LOCKED,
                          "s.py": "from flowline import tool\n\n@tool\ndef s(v: object) -> int:\n    return v.x\n",
                          "ag.py": "from flowline import log_metric, tool\n\n@tool\ndef ag(vals: list) -> None:\n"
                                   "    log_metric('n', len(vals))\n",
                          "flow.dag.yaml": _UNPICKLABLE_FLOW % aggregated})
    data = tmp_path / "d.jsonl"
    data.write_text('{"x": 1}\n{"x": 2}\n')
    started = time.monotonic()
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--worker-processes", "2",
                     "--name", "objects")
    assert time.monotonic() - started < 30
    assert result.code == 0 and "Traceback" not in result.stderr, result.stderr
    rows = {row["line_number"]: row for row in run_cli("run", "show-details", "--name", "objects", "--json").json()}
    if aggregated == "s":
        assert result.json()["metrics"] == {"n": 2}
        assert [rows[n]["outputs"] for n in (0, 1)] == [{"o": 1}, {"o": 2}]
        return
    assert result.json()["metrics"] == {"n": 0}
    for number, row in rows.items():
        assert row["status"] == "Failed"
        error = row["error"]
        assert (error["type"], error["node"]) == ("PicklingError", "t")
        assert error["message"].startswith(
            f"Line {number} cannot be sent back from its worker process: the output of node 't', which aggregation "
            "node 'ag' reads, cannot be pickled (")
        assert error["message"].endswith(
            "Return plain data from 't' (numbers, text, lists, dicts; not an object of a class defined in a tool "
            "file, nor one holding a lock or an open file), or run without --worker-processes.")


def test_worker_processes_end_when_run_create_is_killed(tmp_path: Path, flow_dir: Path) -> None:
    """They used to go on for ever: each holds its own copy of the pipe's other end, so none saw it close."""
    import os
    import signal
    import subprocess
    import sys

    from flowline.runs.store import process_start

    pid_file = tmp_path / "worker.pid"
    write_flow(flow_dir, {"t.py": f'''
        import os
        import time
        from pathlib import Path

        from flowline import tool


        @tool
        def t(text: str) -> str:
            # Written whole, then renamed: the test never reads a half-written file.
            part = Path({str(pid_file)!r} + f".{{os.getpid()}}")
            part.write_text(str(os.getpid()))
            os.replace(part, {str(pid_file)!r})
            time.sleep(60)
            return text
    ''', "flow.dag.yaml": one_node_flow()})
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n')
    run = subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--flow", str(flow_dir), "--data",
                            str(data), "--worker-processes", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    worker = int(pid_file.read_text())
    run.send_signal(signal.SIGKILL)
    run.wait()
    ended_by = time.monotonic() + 10
    while process_start(worker) is not None and time.monotonic() < ended_by:
        time.sleep(0.05)
    if process_start(worker) is not None:
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the worker process outlived run create by 10 s")
