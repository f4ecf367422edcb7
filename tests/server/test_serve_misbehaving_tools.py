"""Tools that misbehave in a served flow: a request never stops the server, whatever its tool raises or
prints. A KeyboardInterrupt, GeneratorExit or an async tool's own CancelledError fails the node (500
NodeFailed); prints and log lines of tools reach the log with the request id, secrets masked; an output JSON
cannot write (NaN) is a FlowFailed error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import create_connection, write_flow
from serve_process import Served, start_server

SECRET = "sk-printed-secret-4567"

FLOW = {
    "flow.dag.yaml": """
        inputs:
          mode: {type: string}
        outputs:
          out: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {mode: "${inputs.mode}", conn: keys}
        - name: s
          type: python
          source: {type: code, path: s.py}
          inputs: {mode: "${inputs.mode}"}
    """,
    # A sync tool: it runs on a worker thread, whose KeyboardInterrupt reaches the node through its future.
    "s.py": """
        from promptflow.core import tool

        @tool
        def s(mode: str) -> str:
            if mode == "sync-kbd":
                raise KeyboardInterrupt("from a thread")
            return "ok"
    """,
    "t.py": """
        import asyncio
        import logging
        import sys

        from promptflow.connections import CustomConnection
        from promptflow.core import tool

        @tool
        async def t(mode: str, conn: CustomConnection):
            if mode == "kbd":
                raise KeyboardInterrupt()
            if mode == "cancel":
                raise asyncio.CancelledError()
            if mode == "genexit":
                raise GeneratorExit("closed")
            if mode == "timeout":
                raise TimeoutError()
            if mode == "print":
                print("the token is", conn.secret)
                print("stderr token", conn.secret, file=sys.stderr)
                logging.getLogger("x").warning("log token %s", conn.secret)
                return "printed"
            if mode == "nan":
                return float("nan")
            return "fine"
    """,
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    create_connection(tmp_path, f"name: keys\ntype: custom\nsecrets:\n  secret: {SECRET}\n")
    server = start_server(write_flow(tmp_path / "misbehaving", FLOW))
    yield server
    server.stop()


def score(served: Served, mode: str, request_id: str = "") -> httpx.Response:
    headers = {"x-request-id": request_id} if request_id else {}
    return httpx.post(f"{served.url}/score", json={"mode": mode}, headers=headers, timeout=60)


def test_keyboard_interrupt_generator_exit_and_a_tools_own_cancel_fail_the_node(served: Served) -> None:
    expected = {
        "kbd": "Node 't' failed: KeyboardInterrupt: Tool 't' raised KeyboardInterrupt; a tool returns a value or "
               "raises an Exception.",
        "cancel": "Node 't' failed: CancelledError: Tool 't' raised CancelledError; a tool returns a value or raises "
                  "an Exception.",
        "genexit": "Node 't' failed: GeneratorExit: Tool 't' raised GeneratorExit (closed); a tool returns a value "
                   "or raises an Exception.",
        "sync-kbd": "Node 's' failed: KeyboardInterrupt: Tool 's' raised KeyboardInterrupt (from a thread); a tool "
                    "returns a value or raises an Exception.",
    }
    for mode, message in expected.items():
        response = score(served, mode)
        assert response.status_code == 500, mode
        assert response.json() == {"error": {"code": "NodeFailed", "message": message}}
        assert score(served, "ok").json() == {"out": "fine"}  # still serving
    assert served.process.poll() is None
    log = served.log()
    assert "Traceback" not in log and "Exception in ASGI application" not in log and "interrupted" not in log


def test_an_exception_without_a_message_is_named_once(served: Served) -> None:
    response = score(served, "timeout")
    assert response.json() == {"error": {"code": "NodeFailed", "message": "Node 't' failed: TimeoutError"}}


def test_tool_prints_and_log_lines_reach_the_log_with_the_request_id_and_masked(served: Served) -> None:
    assert score(served, "print", "req-print-1").json() == {"out": "printed"}
    served.wait_for(r"POST /score 200 .* request_id=req-print-1")
    lines = [line for line in served.log().splitlines() if "[req-print-1]" in line]
    assert [line.split(" ", 2)[2] for line in lines] == [
        "[req-print-1] t: the token is ******",
        "[req-print-1] t: stderr token ******",
        "[req-print-1] t: log token ******",
    ]
    assert SECRET not in served.log()
    served.stop()
    assert served.process.stdout is not None and served.process.stdout.read() == ""  # nothing printed past the log


def test_an_output_json_cannot_write_is_a_flow_failure(served: Served) -> None:
    for headers in ({}, {"Accept": "text/event-stream"}):
        response = httpx.post(f"{served.url}/score", json={"mode": "nan"}, headers=headers, timeout=60)
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "FlowFailed"
        assert error["message"].startswith("The flow's outputs could not be made: FlowOutputUnserializable: ")
        assert "Out of range float values are not JSON compliant" in error["message"]
