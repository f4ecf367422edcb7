"""Ctrl-C ends `flowline flow test` at once (exit 130), even while a sync tool is still running: the
tool's thread is not waited for. promptflow 1.18.5 (`pf flow test`) also ends on the first Ctrl-C."""

from __future__ import annotations

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
