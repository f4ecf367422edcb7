"""Ctrl-C ends `flowline flow test` at once (exit 130), even while a sync tool is still running: the
tool's thread is not waited for. promptflow 1.18.5 (`pf flow test`) also ends on the first Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_flow

BUSY = """
    import time

    from flowline import tool


    @tool
    def t(seconds: int) -> int:
        print("started", flush=True)
        if seconds < 0:
            while True:  # never returns, never sleeps
                pass
        time.sleep(seconds)
        return seconds
"""
FLOW = """
    inputs:
      seconds: {type: int}
    outputs:
      o: {reference: "${busy.output}"}
    nodes:
    - name: busy
      type: python
      source: {type: code, path: t.py}
      inputs: {seconds: "${inputs.seconds}"}
"""


@pytest.mark.parametrize("seconds", ["60", "-1"])
def test_ctrl_c_ends_flow_test_while_a_tool_runs(tmp_path: Path, seconds: str) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": FLOW, "t.py": BUSY})
    proc = subprocess.Popen([sys.executable, "-m", "flowline", "flow", "test", "--flow", str(folder), "--inputs",
                             f"seconds={seconds}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the tool's print, as its node's log line: the tool is running
            if "started" in line:
                break
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        waited = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait()
    assert code == 130
    assert waited < 5  # an upper bound: it used to wait for the tool (60 s), or forever
    assert proc.stderr.read().splitlines()[-1] == "flowline: interrupted"


SELF_INTERRUPTING = """
    import signal
    import threading
    import time

    from flowline import tool


    @tool
    def t(seconds: int) -> int:
        # Ctrl-C as the kernel may deliver it: to this thread, not to the main thread waiting in select()
        # (where it is by now).
        time.sleep(0.5)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        time.sleep(seconds)
        return seconds
"""


@pytest.mark.parametrize("command", [["flow", "test", "--flow", "{flow}", "--inputs", "seconds=60"],
                                     ["run", "create", "--flow", "{flow}", "--data", "{data}"]])
def test_ctrl_c_taken_by_a_tool_thread_still_ends_at_once(tmp_path: Path, command: list[str]) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": FLOW, "t.py": SELF_INTERRUPTING})
    data = tmp_path / "data.jsonl"
    data.write_text('{"seconds": 60}\n')
    env = {**os.environ, "FLOWLINE_HOME": str(tmp_path / "home")}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "flowline",
                           *(part.format(flow=folder, data=data) for part in command)],
                          capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode == 130, proc.stderr
    assert time.monotonic() - started < 15  # not the tool's 60 s
