"""SIGTERM while a request is in flight: the server stops taking connections, the request completes, and the
process exits 0. Every step waits for a state (a file the tool writes, a log line, the answer)."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import write_flow
from serve_process import start_server

FLOW = {
    "flow.dag.yaml": """
        inputs:
          text: {type: string}
        outputs:
          out: {reference: "${slow.output}"}
        nodes:
        - name: slow
          type: python
          source: {type: code, path: slow.py}
          inputs: {text: "${inputs.text}"}
    """,
    # Says it started, then holds the request until the test creates `release`.
    "slow.py": """
        import pathlib
        import time

        from flowline import tool

        @tool
        def slow(text: str) -> str:
            here = pathlib.Path(__file__).parent
            (here / "started").touch()
            while not (here / "release").exists():
                time.sleep(0.01)
            return text.upper()
    """,
}


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "slow", FLOW)
    served = start_server(flow)
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answer = pool.submit(httpx.post, f"{served.url}/score", json={"text": "in flight"}, timeout=120)
            while not (flow / "started").exists():  # the tool runs: the request is in flight
                assert not answer.done(), answer.result().text
                time.sleep(0.01)
            served.process.send_signal(15)
            served.wait_for(r"Stopping: no new requests")
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"{served.url}/health", timeout=10)
            (flow / "release").touch()
            response = answer.result()
        assert response.status_code == 200 and response.json() == {"out": "IN FLIGHT"}
        assert served.process.wait(timeout=60) == 0
        log = served.log()
        assert "POST /score 200" in log and "Stopped." in log and "Traceback" not in log
    finally:
        served.stop()


def test_sigint_stops_an_idle_server_with_exit_code_0(tmp_path: Path) -> None:
    served = start_server(write_flow(tmp_path / "slow", FLOW))
    try:
        served.process.send_signal(2)
        assert served.process.wait(timeout=60) == 0
    finally:
        served.stop()


def test_a_request_still_running_when_the_grace_period_ends_gets_503_json(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "slow", FLOW)
    served = start_server(flow, "--grace-period", "0.3")  # fractions of a second are kept, not rounded to 1
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answer = pool.submit(httpx.post, f"{served.url}/score", json={"text": "never"}, timeout=120)
            while not (flow / "started").exists():
                time.sleep(0.01)
            served.process.send_signal(15)
            stopping = time.monotonic()
            response = answer.result()
            waited = time.monotonic() - stopping
        assert response.status_code == 503
        assert response.json() == {"error": {"code": "ShuttingDown", "message": (
            "The server stopped before this request finished: its grace period after SIGTERM ran out "
            "(flowline flow serve --grace-period). Send the request again.")}}
        assert 0.3 <= waited < 0.9
        assert served.process.wait(timeout=60) == 0
        log = served.log()
        assert "POST /score 503" in log and "Traceback" not in log and "Exception in ASGI" not in log
    finally:
        served.stop()
