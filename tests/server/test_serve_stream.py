"""`POST /score` with `Accept: text/event-stream`: promptflow's Server-Sent Events, byte for byte, flushed as
the flow yields them.

promptflow 1.18.5's framing, recorded for the flow CHAT_FLOW below (without the release files) by running
`PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true HOME=<temp> pf flow serve --source chatflow --port 18765
--skip-open-browser` (its Flask engine; the FastAPI one needs uvicorn in promptflow's environment and frames
alike) and capturing the raw bytes with `curl -s -i -N -X POST http://127.0.0.1:18765/score -H 'Accept:
text/event-stream' -H 'Content-Type: application/json' -d '{"question":"q","n":3}' | od -c`:

    Content-Type: text/event-stream; charset=utf-8
    data: {"count": 30}\n\ndata: {"answer": "tok0 "}\n\ndata: {"answer": "tok1 "}\n\ndata: {"answer": "tok2 "}\n\n

and for a flow whose only output is a generator's (ALL_STREAMED below, `-d '{}'`), no first event:

    data: {"out": "a"}\n\ndata: {"out": "b"}\n\n
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
from conftest import write_flow
from serve_process import start_server

SSE = {"Accept": "text/event-stream"}

CHAT_FLOW = {
    "flow.dag.yaml": """
        inputs:
          question: {type: string, is_chat_input: true, default: hi}
          chat_history: {type: list, is_chat_history: true, default: []}
          n: {type: int, default: 3}
        outputs:
          answer: {type: string, reference: "${chat.output}", is_chat_output: true}
          count: {type: int, reference: "${count.output}"}
        nodes:
        - name: chat
          type: python
          source: {type: code, path: chat.py}
          inputs: {question: "${inputs.question}", n: "${inputs.n}"}
        - name: count
          type: python
          source: {type: code, path: count.py}
          inputs: {n: "${inputs.n}"}
    """,
    # Each chunk after the first waits for the test to create release-<i>: the test sees a chunk arrive
    # while the tool is still held, so chunks are flushed as they come, not when the flow ends.
    "chat.py": """
        import pathlib
        import time

        from promptflow.core import tool

        @tool
        def chat(question: str, n: int):
            for i in range(n):
                release = pathlib.Path(__file__).with_name(f"release-{i}")
                while i and not release.exists():
                    time.sleep(0.01)
                yield f"tok{i} "
    """,
    "count.py": """
        from promptflow.core import tool

        @tool
        def count(n: int) -> int:
            if n < 0:
                raise ValueError("n must not be negative")
            return n * 10
    """,
}


def events(response: httpx.Response) -> Iterator[bytes]:
    """Each event's raw bytes (ending in the blank line), as soon as it is complete."""
    buffered = b""
    for chunk in response.iter_raw():
        buffered += chunk
        while b"\n\n" in buffered:
            event, buffered = buffered.split(b"\n\n", 1)
            yield event + b"\n\n"
    assert buffered == b"", buffered


def test_events_are_promptflows_and_each_chunk_is_flushed_as_it_comes(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "chatflow", CHAT_FLOW)
    served = start_server(flow)
    try:
        with httpx.stream("POST", f"{served.url}/score", json={"question": "q", "n": 3}, headers=SSE,
                          timeout=60) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            stream = events(response)
            assert next(stream) == b'data: {"count": 30}\n\n'
            assert next(stream) == b'data: {"answer": "tok0 "}\n\n'
            (flow / "release-1").touch()  # tok1 comes only now
            assert next(stream) == b'data: {"answer": "tok1 "}\n\n'
            (flow / "release-2").touch()
            assert next(stream) == b'data: {"answer": "tok2 "}\n\n'
            assert list(stream) == []
        # The same request without the header: JSON, the chunks joined.
        answer = httpx.post(f"{served.url}/score", json={"question": "q", "n": 3}, timeout=60)
        assert answer.json() == {"answer": "tok0 tok1 tok2 ", "count": 30}
    finally:
        served.stop()


ALL_STREAMED = {
    "flow.dag.yaml": """
        inputs:
          text: {type: string, default: "a b"}
        outputs:
          out: {type: string, reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {text: "${inputs.text}"}
    """,
    "t.py": """
        from promptflow.core import tool

        @tool
        def t(text: str):
            for word in text.split():
                if word == "fail":
                    raise RuntimeError("cannot go on")
                yield word
    """,
}


def test_when_every_output_streams_there_is_no_first_event_and_a_later_failure_ends_the_stream(
        tmp_path: Path) -> None:
    served = start_server(write_flow(tmp_path / "allstream", ALL_STREAMED))
    try:
        response = httpx.post(f"{served.url}/score", json={}, headers=SSE, timeout=60)
        assert response.content == b'data: {"out": "a"}\n\ndata: {"out": "b"}\n\n'
        # Failing before any event: an error answer with its status, as without streaming.
        early = httpx.post(f"{served.url}/score", json={"text": "fail a"}, headers=SSE, timeout=60)
        assert early.status_code == 500
        assert early.json() == {"error": {"code": "NodeFailed",
                                          "message": "Node 't' failed: RuntimeError: cannot go on"}}
        # Failing once the stream has begun (its status sent): the stream ends with an error event.
        late = httpx.post(f"{served.url}/score", json={"text": "a fail"},
                          headers={**SSE, "x-request-id": "late-failure"}, timeout=60)
        assert late.status_code == 200
        assert late.content == (b'data: {"out": "a"}\n\n'
                                b'data: {"error": {"code": "NodeFailed", "message": '
                                b'"Node \'t\' failed: RuntimeError: cannot go on"}}\n\n')
        # ... and is logged as the failure it is, with its request id (its access line says 200, sent already).
        served.wait_for(r"request late-failure: Node 't' failed: RuntimeError: cannot go on \(after the event "
                        r"stream began")
    finally:
        served.stop()


def test_a_flow_without_streamed_outputs_answers_with_one_event(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "plain", {
        "flow.dag.yaml": """
            inputs:
              n: {type: int, default: 4}
            outputs:
              count: {type: int, reference: "${count.output}"}
              same: {type: int, reference: "${inputs.n}"}
            nodes:
            - name: count
              type: python
              source: {type: code, path: count.py}
              inputs: {n: "${inputs.n}"}
        """,
        "count.py": CHAT_FLOW["count.py"],
    })
    served = start_server(flow)
    try:
        response = httpx.post(f"{served.url}/score", json={}, headers=SSE, timeout=60)
        assert response.content == b'data: {"count": 40, "same": 4}\n\n'
        failed = httpx.post(f"{served.url}/score", json={"n": -1}, headers=SSE, timeout=60)
        assert failed.status_code == 500 and failed.json()["error"]["code"] == "NodeFailed"
    finally:
        served.stop()
