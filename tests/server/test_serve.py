"""`flowline flow serve`: a real server on 127.0.0.1 answering /score, /health, /version, /swagger.json and /,
called with a real HTTP client (httpx2, which the openai client brings)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import SAMPLES, write_flow
from openapi_spec_validator import validate
from serve_process import Served, start_server


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    served = start_server(SAMPLES / "hello", env={**os.environ, "FLOWLINE_HOME": str(home)})
    yield served
    served.stop()


def test_score_runs_the_flow_with_the_inputs_given(hello: Served) -> None:
    response = httpx.post(f"{hello.url}/score", json={"name": "Ada", "excited": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"greeting": "HELLO, ADA!", "length": 11}


def test_a_missing_input_takes_its_default(hello: Served) -> None:
    assert httpx.post(f"{hello.url}/score", json={}).json() == {"greeting": "Hello, World!", "length": 13}
    # Names the flow does not declare are ignored, as promptflow 1.18.5 does.
    assert httpx.post(f"{hello.url}/score", json={"name": "Bo", "extra": 1}).json()["greeting"] == "Hello, Bo!"


def test_the_request_id_is_echoed_or_made_up_and_logged(hello: Served) -> None:
    given = httpx.post(f"{hello.url}/score", json={}, headers={"x-request-id": "req-42.a:b"})
    assert given.headers["x-request-id"] == "req-42.a:b"
    made = httpx.post(f"{hello.url}/score", json={})
    other = httpx.post(f"{hello.url}/score", json={})
    assert made.headers["x-request-id"] and made.headers["x-request-id"] != other.headers["x-request-id"]
    # An id that is no plain token (it would go into a header and the log as given) is replaced.
    odd = httpx.post(f"{hello.url}/score", json={}, headers={"x-request-id": "a b\tc"})
    assert odd.headers["x-request-id"] != "a b\tc"
    line = hello.wait_for(r"request_id=req-42\.a:b$")
    assert " POST /score 200 " in line and " ms request_id=" in line


def test_health_and_version(hello: Served) -> None:
    from flowline import __version__

    assert httpx.get(f"{hello.url}/health").json() == {"status": "Healthy", "version": __version__}
    assert httpx.get(f"{hello.url}/version").json() == {"status": "Healthy", "version": __version__, "build_info": ""}


def test_swagger_is_valid_openapi_3_1_with_the_inputs_outputs_and_their_defaults(hello: Served) -> None:
    doc = httpx.get(f"{hello.url}/swagger.json").json()
    validate(doc)  # openapi-spec-validator picks the OpenAPI 3.1 schema from "openapi"
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["x-flow-name"] == "hello" and doc["info"]["x-flow-type"] == "standard"
    body = doc["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"] == {"name": {"type": "string", "default": "World"},
                                            "excited": {"type": "boolean", "default": False}}
    assert body["schema"]["required"] == []
    assert body["example"] == {"name": "World", "excited": False}
    outputs = doc["paths"]["/score"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(outputs["properties"]) == {"greeting", "length"}
    assert "/v1/chat/completions" not in doc["paths"]
    # The example is a request that works.
    assert httpx.post(f"{hello.url}/score", json=body["example"]).status_code == 200


def test_swagger_of_a_chat_flow_names_its_chat_parts(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "chat", {
        "flow.dag.yaml": """
            inputs:
              question: {type: string, is_chat_input: true}
              chat_history: {type: list, is_chat_history: true}
              n: {type: int, default: 2, description: how many}
            outputs:
              answer: {type: string, reference: "${t.output}", is_chat_output: true}
            nodes:
            - name: t
              type: python
              source: {type: code, path: t.py}
              inputs: {question: "${inputs.question}"}
        """,
        "t.py": "from flowline import tool\n\n@tool\ndef t(question: str) -> str:\n    return question\n",
    })
    served = start_server(flow)
    try:
        doc = httpx.get(f"{served.url}/swagger.json").json()
    finally:
        served.stop()
    validate(doc)
    assert {k: v for k, v in doc["info"].items() if k.startswith("x-")} == {
        "x-flow-name": "chat", "x-flow-type": "chat", "x-chat-input": "question", "x-chat-history": "chat_history",
        "x-chat-output": "answer"}
    schema = doc["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["question"]
    assert schema["properties"]["n"] == {"type": "integer", "description": "how many", "default": 2}
    assert "/v1/chat/completions" in doc["paths"]


def test_the_page_to_try_the_flow_is_self_contained(hello: Served) -> None:
    response = httpx.get(f"{hello.url}/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "swagger.json" in page and "text/event-stream" in page
    assert "http://" not in page and "https://" not in page  # no CDN: it works offline


def test_tools_are_loaded_once_and_sync_tools_run_on_the_worker_threads(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "once", {
        "flow.dag.yaml": """
            inputs: {}
            outputs:
              thread: {reference: "${t.output}"}
            nodes:
            - name: t
              type: python
              source: {type: code, path: t.py}
        """,
        "t.py": """
            import pathlib
            import threading

            from flowline import tool

            with open(pathlib.Path(__file__).with_name("imports.txt"), "a") as f:
                f.write("imported\\n")

            @tool
            def t() -> str:
                return threading.current_thread().name
        """,
    })
    served = start_server(flow, "--workers", "1")
    try:
        with httpx.Client() as client:
            threads = {client.post(f"{served.url}/score", json={}).json()["thread"] for _ in range(5)}
    finally:
        served.stop()
    assert (flow / "imports.txt").read_text() == "imported\n"
    assert len(threads) == 1 and threads != {"MainThread"}


ONE_NODE = """
    inputs: {}
    outputs:
      met: {reference: "${meet.output}"}
    nodes:
    - name: meet
      type: python
      source: {type: code, path: meet.py}
"""


def _together(flow: Path, requests: int, *args: str) -> list[object]:
    import concurrent.futures

    served = start_server(flow, "--request-timeout", "60", *args)
    try:
        with concurrent.futures.ThreadPoolExecutor(requests) as pool:
            answers = list(pool.map(lambda _: httpx.post(f"{served.url}/score", json={}, timeout=90), range(requests)))
    finally:
        served.stop()
    assert [a.status_code for a in answers] == [200] * requests, [a.text for a in answers]
    return sorted(a.json()["met"] for a in answers)


def test_requests_share_the_event_loop(tmp_path: Path) -> None:
    """The async tools of 20 requests wait for each other on the server's loop: they could not finish if the
    requests ran one at a time."""
    flow = write_flow(tmp_path / "async", {"flow.dag.yaml": ONE_NODE, "meet.py": """
        import asyncio

        from flowline import tool

        waiting = []

        @tool
        async def meet() -> int:
            event = asyncio.Event()
            waiting.append(event)
            if len(waiting) == 20:
                for each in waiting:
                    each.set()
            await event.wait()
            return len(waiting)
    """})
    assert _together(flow, 20) == [20] * 20


def test_sync_tools_run_on_as_many_threads_as_workers(tmp_path: Path) -> None:
    """The sync tools of 4 requests meet at a 4-party barrier: only 4 threads at once let them."""
    flow = write_flow(tmp_path / "sync", {"flow.dag.yaml": ONE_NODE, "meet.py": """
        import threading

        from flowline import tool

        barrier = threading.Barrier(4)

        @tool
        def meet() -> int:
            return barrier.wait()
    """})
    assert _together(flow, 4, "--workers", "4") == [0, 1, 2, 3]


def test_an_image_request_never_reads_the_servers_files(tmp_path: Path) -> None:
    # samples/image-info: an `image` input with a default file of the flow, echoed as an output with its size.
    served = start_server(SAMPLES / "image-info", env={**os.environ, "FLOWLINE_HOME": str(tmp_path / "home")})
    try:
        png = (SAMPLES / "image-info" / "circle.png").read_bytes()
        default = httpx.post(f"{served.url}/score", json={})
        assert default.status_code == 200, default.text
        assert default.json()["summary"] == f"a 48x48 PNG image of {len(png)} bytes"
        assert default.json()["picture"] == {"data:image/png;base64": base64.b64encode(png).decode()}
        given = httpx.post(f"{served.url}/score", json={"picture": {"data:image/png;base64": base64.b64encode(png)
                                                                    .decode()}})
        assert given.status_code == 200 and given.json()["summary"] == default.json()["summary"]
        secret = tmp_path / "secret.png"
        secret.write_bytes(png)
        for form in (str(secret), {"data:image/png;path": str(secret)}, "circle.png"):
            refused = httpx.post(f"{served.url}/score", json={"picture": form})
            assert refused.status_code == 400, refused.text
            error = refused.json()["error"]
            assert error["code"] == "InvalidInput"
            assert "is a file path, which is not read from a request; send the image as a URL, a data URI" \
                in error["message"]
    finally:
        served.stop()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 with an image (/circle.png) and a document that is none (/v1/models)."""
    import http.server
    import threading

    png = (SAMPLES / "image-info" / "circle.png").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body, kind = (png, "image/png") if self.path == "/circle.png" else (b'{"models": ["secret"]}',
                                                                                "application/json")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_image_urls_of_this_machine_or_its_network_are_refused_unless_allowed(tmp_path: Path, web: str) -> None:
    env = {**os.environ, "FLOWLINE_HOME": str(tmp_path / "home")}
    port = web.rsplit(":", 1)[1]
    served = start_server(SAMPLES / "image-info", env=env)
    try:
        for url in (f"{web}/circle.png", f"http://localhost:{port}/circle.png", "http://169.254.169.254/latest/",
                    "http://10.0.0.1/a.png", "http://[::1]/a.png", "http://224.0.0.1/a.png"):
            for form in ({"data:image/png;url": url}, url):
                refused = httpx.post(f"{served.url}/score", json={"picture": form}, timeout=60)
                assert refused.status_code == 400, (url, refused.text)
                error = refused.json()["error"]
                assert error["code"] == "InvalidInput"
                assert error["message"].startswith(f"Flow input 'picture': image URL '{url}' points at ")
                assert "--allow-private-urls" in error["message"]
    finally:
        served.stop()
    allowed = start_server(SAMPLES / "image-info", "--allow-private-urls", env=env)
    try:
        png = (SAMPLES / "image-info" / "circle.png").read_bytes()
        fetched = httpx.post(f"{allowed.url}/score", json={"picture": {"data:image/png;url": f"{web}/circle.png"}})
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["summary"] == f"a 48x48 PNG image of {len(png)} bytes"
        no_image = httpx.post(f"{allowed.url}/score", json={"picture": {"data:image/png;url": f"{web}/v1/models"}})
        assert no_image.status_code == 400
        assert no_image.json()["error"] == {"code": "InvalidInput", "message": (
            f"Flow input 'picture': Image URL '{web}/v1/models' answered with something that is no image (no PNG, "
            "JPEG, GIF, WebP or BMP).")}
        assert "secret" not in no_image.text
    finally:
        allowed.stop()
