"""Every error a served flow answers, with its status and body `{"error": {"code", "message"}}`: the server
keeps serving after each, and neither a body nor the log shows a traceback or a connection's secret."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import create_connection, write_flow
from serve_process import Served, run_serve, start_server

SECRET = "sk-very-secret-value-123"

FLOW = {
    "flow.dag.yaml": """
        inputs:
          text: {type: string}
          times: {type: int, default: 1}
          mode: {type: string, default: ok}
        outputs:
          out: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {text: "${inputs.text}", times: "${inputs.times}", mode: "${inputs.mode}", conn: keys}
    """,
    "t.py": """
        import pathlib
        import time

        from promptflow.connections import CustomConnection
        from promptflow.core import tool

        @tool
        def t(text: str, times: int, mode: str, conn: CustomConnection) -> str:
            if mode == "leak":
                raise PermissionError(f"the server refused key {conn.secret}")
            if mode == "hang":
                pathlib.Path(__file__).with_name("hanging").touch()
                while True:
                    time.sleep(0.05)
            return text * times
    """,
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    create_connection(tmp_path, f"name: keys\ntype: custom\nsecrets:\n  secret: {SECRET}\n")
    flow = write_flow(tmp_path / "errors", FLOW)
    server = start_server(flow, "--max-body-size", "2000", "--request-timeout", "1")
    yield server
    server.stop()


def post(served: Served, body: bytes | None = None, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{served.url}/score", content=body, timeout=60, **kwargs)  # type: ignore[arg-type]


def still_serving(served: Served) -> None:
    assert httpx.post(f"{served.url}/score", json={"text": "ok"}, timeout=60).json() == {"out": "ok"}


def test_bad_requests_get_400_naming_the_input(served: Served) -> None:
    cases = [
        (b'{"text": ', "InvalidJSON",
         "The request body is not valid JSON: Expecting value: line 1 column 10 (char 9)."),
        (b"", "InvalidJSON", "The request body is empty; send the inputs as a JSON object."),
        (b'["x"]', "InvalidRequest", "The request body must be a JSON object of the flow's inputs, such as "
                                     "{'text': ..., 'times': ..., 'mode': ...}."),
        (b'{"times": 2}', "MissingInput", "Required input(s) 'text' missing from the request body; the flow "
                                          "'errors' has no default for them."),
        (b'{"text": "a", "times": "many"}', "InvalidInput",
         "The value of flow input 'times' is not of type int: 'many' is not a valid int."),
    ]
    for body, code, message in cases:
        response = post(served, body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json() == {"error": {"code": code, "message": message}}
        still_serving(served)


def test_a_body_over_the_limit_gets_413_whether_its_length_is_told_or_not(served: Served) -> None:
    big = b'{"text": "' + b"x" * 3000 + b'"}'
    expected = {"error": {"code": "PayloadTooLarge", "message": "The request body is larger than 2000 bytes, the "
                          "most this server takes (flowline flow serve --max-body-size)."}}
    told = post(served, big)
    assert told.status_code == 413 and told.json() == expected
    still_serving(served)
    chunked = post(served, iter([big[:1500], big[1500:]]))  # no Content-Length: read until past the limit
    assert chunked.status_code == 413 and chunked.json() == expected
    still_serving(served)


def test_unknown_routes_get_404_and_wrong_methods_405(served: Served) -> None:
    missing = httpx.get(f"{served.url}/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NotFound"
    assert "POST /score" in missing.json()["error"]["message"]
    wrong = httpx.get(f"{served.url}/score")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json() == {"error": {"code": "MethodNotAllowed",
                                      "message": "/score does not take GET; it takes POST."}}
    assert httpx.delete(f"{served.url}/health").status_code == 405
    still_serving(served)


def test_a_failing_node_gets_500_naming_it_without_traceback_or_secret(served: Served) -> None:
    response = post(served, json={"text": "a", "mode": "leak"}, headers={"x-request-id": "leaky"})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "NodeFailed",
                                          "message": "Node 't' failed: PermissionError: the server refused key ******"}}
    still_serving(served)
    logged = served.wait_for(r"request leaky: ")
    assert logged.endswith("request leaky: Node 't' failed: PermissionError: the server refused key ******")
    served.wait_for(r"POST /score 500 .* request_id=leaky$")
    assert SECRET not in served.log() and "Traceback" not in served.log()


def test_a_request_past_the_timeout_gets_504_naming_the_node(served: Served) -> None:
    response = post(served, json={"text": "a", "mode": "hang"})
    assert response.status_code == 504
    assert response.json() == {"error": {"code": "Timeout", "message": (
        "The flow did not finish within 1 seconds (still running: 't'); raise --request-timeout or make the flow "
        "faster.")}}
    still_serving(served)


def test_a_flow_that_cannot_be_served_is_refused_in_one_message(tmp_path: Path) -> None:
    invalid = write_flow(tmp_path / "invalid", {"flow.dag.yaml": """
        outputs:
          out: {reference: "${missing.output}"}
        nodes: []
    """})
    result = run_serve(invalid)
    assert result.returncode == 2
    assert "flow.dag.yaml:2:" in result.stderr and "fix them before serving" in result.stderr
    assert "Traceback" not in result.stderr
    unloadable = FLOW["t.py"] + "\n        import not_a_module_anywhere\n"
    broken = write_flow(tmp_path / "broken", {**FLOW, "t.py": unloadable})
    result = run_serve(broken)
    assert result.returncode == 2
    assert "Node 't' could not load its tool: ModuleNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_serve(tmp_path / "nowhere").returncode == 2


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    create_connection(tmp_path, f"name: keys\ntype: custom\nsecrets:\n  secret: {SECRET}\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_serve(write_flow(tmp_path / "flow", FLOW), "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"flowline: error: Cannot listen on 127.0.0.1:{port}: Address already in use (another process uses it: "
        "choose another with --port).")


def test_the_access_log_writes_a_path_as_sent_so_no_request_forges_a_line(served: Served) -> None:
    forged = "/x%0a2026-11-30%2014:00:00%20POST%20/score%20200%20fake%1b[31m"
    response = httpx.get(f"{served.url}{forged}", headers={"x-request-id": "forger"})
    assert response.status_code == 404
    line = served.wait_for(r"request_id=forger$")
    assert f" GET {forged} 404 " in line
    assert "\x1b" not in served.log() and not any(" fake" in entry for entry in served.log().splitlines())
    assert "\\n" not in response.json()["error"]["message"] and "\x1b" not in response.json()["error"]["message"]


def test_a_trailing_slash_is_404_in_the_error_shape(served: Served) -> None:
    response = httpx.post(f"{served.url}/score/", json={"text": "a"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"


def test_bodies_no_flow_can_take_are_400(served: Served) -> None:
    response = post(served, b'{"text": "\\ud800"}')
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidJSON"
    assert "lone UTF-16 surrogate" in response.json()["error"]["message"]
    assert post(served, b'{"text": "\\ud83d\\ude00"}').json() == {"out": "\U0001F600"}  # a pair is a character
    still_serving(served)
    assert "Traceback" not in served.log()


def test_a_chat_history_that_is_no_list_of_turns_and_json_nested_too_deep_are_400(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "chat", {
        "flow.dag.yaml": """
            inputs:
              question: {type: string, is_chat_input: true}
              chat_history: {type: list, is_chat_history: true}
            outputs:
              answer: {reference: "${echo.output}", is_chat_output: true}
            nodes:
            - name: echo
              type: python
              source: {type: code, path: echo.py}
              inputs: {question: "${inputs.question}", history: "${inputs.chat_history}"}
        """,
        "echo.py": """
            from flowline import tool

            @tool
            def echo(question: str, history: list) -> str:
                return f"{len(history)}: {question}"
        """,
    })
    served = start_server(flow)
    try:
        for history in ([1, 2], [{"inputs": {}}], [{"inputs": {"question": "a"}, "outputs": "b"}]):
            response = httpx.post(f"{served.url}/score", json={"question": "q", "chat_history": history})
            assert response.status_code == 400, response.text
            assert response.json()["error"] == {"code": "InvalidInput", "message": (
                "Flow input 'chat_history' (the chat history) must be a list of {\"inputs\": {...}, \"outputs\": "
                "{...}} objects, one per earlier turn.")}
        deep = b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        response = httpx.post(f"{served.url}/score", content=deep)
        assert response.status_code == 400
        assert response.json()["error"] == {"code": "InvalidJSON", "message": (
            "The request body nests arrays or objects too deeply to be read (about 1,000 levels or more).")}
        good = [{"inputs": {"question": "a"}, "outputs": {"answer": "b"}}]
        assert httpx.post(f"{served.url}/score", json={"question": "q", "chat_history": good}).json() == {
            "answer": "1: q"}
    finally:
        served.stop()


def test_serve_options_refuse_what_is_no_number_and_keep_fractions(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "flow", FLOW)
    for option, value in (("--grace-period", "nan"), ("--grace-period", "inf"), ("--request-timeout", "nan"),
                          ("--request-timeout", "infinity"), ("--port", "65536"), ("--port", "x")):
        result = run_serve(flow, option, value)
        assert result.returncode == 2, (option, value)
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"flowline: error: argument {option}: '{value}' is not")
    create_connection(tmp_path, f"name: keys\ntype: custom\nsecrets:\n  secret: {SECRET}\n")
    served = start_server(flow, "--port", "00", "--grace-period", "0.2")
    try:
        assert httpx.get(f"{served.url}/health").status_code == 200
    finally:
        served.stop()


def test_a_flow_file_given_is_the_flow_served_and_a_file_that_is_no_flow_is_refused(tmp_path: Path) -> None:
    create_connection(tmp_path, f"name: keys\ntype: custom\nsecrets:\n  secret: {SECRET}\n")
    flow = write_flow(tmp_path / "two", {
        **FLOW,
        "other.yaml": """
            inputs:
              text: {type: string}
            outputs:
              other: {reference: "${inputs.text}"}
            nodes: []
        """,
        "notes.txt": "just some words\n",
    })
    served = start_server(flow / "other.yaml")
    try:
        assert served.name == "two"
        assert httpx.post(f"{served.url}/score", json={"text": "hi"}).json() == {"other": "hi"}
    finally:
        served.stop()
    refused = run_serve(flow / "notes.txt")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    validated = subprocess.run([sys.executable, "-m", "flowline", "flow", "validate", "--source",
                                str(flow / "notes.txt")], capture_output=True, text=True, timeout=60)
    problem = next(line for line in validated.stdout.splitlines() + validated.stderr.splitlines() if "error" in line)
    assert problem in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("flowline: error: The flow has 1 error(s)")


def test_load_errors_are_prefixed_and_a_missing_module_points_at_the_requirements(tmp_path: Path) -> None:
    unloadable = FLOW["t.py"] + "\n        import not_a_module_anywhere\n"
    broken = write_flow(tmp_path / "broken", {**FLOW, "t.py": unloadable, "requirements.txt": "not-a-module\n"})
    result = run_serve(broken)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("flowline: error: Node 't' could not load its tool: ModuleNotFoundError")
    assert last.endswith(f"install them with `pip install -r {broken / 'requirements.txt'}`.")
