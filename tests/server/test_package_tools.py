"""Package tools: `source: {type: package, tool: ...}` nodes, `flowline tool list`, and the promptflow-tools
built-ins run natively.

The demo package (tests/server/packages/flowline-demo-tools, installed into the test venv by `make install`)
registers two tools through the `package_tools` entry point: a function and a class built with a connection.
"""

from __future__ import annotations

import importlib.metadata
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import create_connection, position, run_cli, write_flow
from openai_server import FakeOpenAI

SHOUT = "flowline_demo_tools.tools.shout"
GREET = "flowline_demo_tools.tools.Greeter.greet"

DEMO_FLOW = f"""
inputs:
  name: {{type: string, default: Ada}}
outputs:
  shout: {{type: string, reference: "${{s.output}}"}}
  greet: {{type: object, reference: "${{g.output}}"}}
nodes:
- name: s
  type: python
  source: {{type: package, tool: {SHOUT}}}
  inputs: {{text: "${{inputs.name}}", times: 2}}
- name: g
  type: python
  source: {{type: package, tool: {GREET}}}
  inputs: {{connection: demo, style: loud, name: "${{inputs.name}}"}}
"""

# Recorded by hand from promptflow 1.18.5: the demo package installed with
# `pip install --no-deps --target SITE tests/server/packages/flowline-demo-tools`, then
# `PYTHONPATH=SITE pf connection create -f demo.yaml` (the DEMO_CONNECTION below) and
# `PYTHONPATH=SITE pf flow test --flow .` on DEMO_FLOW.
PROMPTFLOW_OUTPUTS = {"shout": "ADA ADA", "greet": {"text": "HELLO, ADA!", "secret_length": 6}}
DEMO_CONNECTION = "name: demo\ntype: custom\nconfigs:\n  greeting: Hello\nsecrets:\n  token: abcdef\n"


@pytest.fixture(autouse=True)
def demo_package_installed() -> None:
    try:
        importlib.metadata.distribution("flowline-demo-tools")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("The test package flowline-demo-tools is not installed; `make install` installs it "
                    "(pip install --no-deps tests/server/packages/flowline-demo-tools).")


def test_tool_list_shows_the_builtins_and_the_installed_package_tools(flow_dir: Path) -> None:
    write_flow(flow_dir, {"flow.dag.yaml": DEMO_FLOW.replace("nodes:", "nodes:\n- name: c\n  type: python\n"
                                                             "  source: {type: code, path: c.py}\n"
                                                             "  inputs: {x: 1}"),
                          "c.py": "from flowline import tool\n\n\n@tool\ndef c(x: int, y: str = 'a') -> int:\n"
                                  "    return x\n"})
    result = run_cli("tool", "list", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    listed = result.json()
    assert list(listed["package"])[:4] == ["promptflow.tools.embedding.embedding",
                                           "promptflow.tools.openai_gpt4v.OpenAI.chat",
                                           "promptflow.tools.aoai_gpt4v.AzureOpenAI.chat",
                                           "promptflow.tools.serpapi.SerpAPI.search"]
    greet = listed["package"][GREET]
    assert greet["class_name"] == "Greeter" and greet["function"] == "greet"
    assert greet["package"] == "flowline-demo-tools" and greet["package_version"] == "0.1.0"
    assert greet["inputs"]["style"] == {"type": ["string"], "default": "plain", "enum": ["plain", "loud"]}
    assert listed["package"][SHOUT]["inputs"] == {"text": {"type": ["string"]},
                                                  "times": {"type": ["int"], "default": "1"}}
    assert listed["code"] == {"c.py": {"type": "python", "function": "c", "source": "c.py", "inputs": {
        "x": {"type": ["int"]}, "y": {"type": ["string"], "default": "'a'"}}}}


def test_function_and_class_tools_run_as_in_promptflow(flow_dir: Path, tmp_path: Path) -> None:
    create_connection(tmp_path, DEMO_CONNECTION)
    write_flow(flow_dir, {"flow.dag.yaml": DEMO_FLOW})
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    assert result.json() == PROMPTFLOW_OUTPUTS


def test_package_tools_run_in_a_batch(flow_dir: Path, tmp_path: Path) -> None:
    create_connection(tmp_path, DEMO_CONNECTION)
    write_flow(flow_dir, {"flow.dag.yaml": DEMO_FLOW})
    data = tmp_path / "data.jsonl"
    data.write_text('{"who": "ada"}\n{"who": "bo"}\n')
    created = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--name", "pkg",
                      "--column-mapping", "name=${data.who}")
    assert created.code == 0, created.stderr
    rows = run_cli("run", "show-details", "--name", "pkg", "--json").json()
    assert [row["outputs"] for row in rows] == [
        {"shout": "ADA ADA", "greet": {"text": "HELLO, ADA!", "secret_length": 6}},
        {"shout": "BO BO", "greet": {"text": "HELLO, BO!", "secret_length": 6}}]


def test_an_unknown_package_tool_is_one_error_at_its_id(flow_dir: Path) -> None:
    flow = DEMO_FLOW.replace("tools.shout}", "tools.shuot}")
    write_flow(flow_dir, {"flow.dag.yaml": flow})
    result = run_cli("flow", "validate", "--source", str(flow_dir))
    assert result.code == 1
    line, column = position(flow, "flowline_demo_tools.tools.shuot")
    errors = [row for row in result.stdout.splitlines() if ": error: " in row]
    assert errors == [
        f"{flow_dir / 'flow.dag.yaml'}:{line}:{column}: error: Package tool 'flowline_demo_tools.tools.shuot' of "
        f"node 's' is not installed. Did you mean '{SHOUT}' or '{GREET}'? `flowline tool list` lists the package "
        "tools of this environment; install the package that provides it into the interpreter that runs the "
        "flow. [package-tool-unknown]"]
    test = run_cli("flow", "test", "--flow", str(flow_dir))
    assert test.code == 2 and "Package tool 'flowline_demo_tools.tools.shuot'" in test.stderr
    assert "Traceback" not in test.stderr


def test_package_tool_inputs_are_checked_like_a_code_tools(flow_dir: Path) -> None:
    flow = DEMO_FLOW.replace('{text: "${inputs.name}", times: 2}', "{times: 2, loudness: 3}")
    write_flow(flow_dir, {"flow.dag.yaml": flow})
    result = run_cli("flow", "validate", "--source", str(flow_dir), "--json")
    problems = {(p["code"], p["message"]) for p in result.json() if p["severity"] == "error"}
    assert problems == {
        ("unknown-parameter", "Tool 'shout' of node 's' has no parameter 'loudness'. Parameters: text, times."),
        ("missing-parameter", "Node 's' does not set required input 'text' of tool 'shout'.")}


def test_the_embedding_builtin_and_its_import_path_call_the_embeddings_api(server: FakeOpenAI,
                                                                          flow_dir: Path) -> None:
    write_flow(flow_dir, {"flow.dag.yaml": """
        inputs:
          text: {type: string, default: two words}
        outputs:
          vector: {reference: "${e.output}"}
          again: {reference: "${mine.output}"}
        nodes:
        - name: e
          type: python
          source: {type: package, tool: promptflow.tools.embedding.embedding}
          inputs: {connection: test, model: test-model, input: "${inputs.text}"}
        - name: mine
          type: python
          source: {type: code, path: mine.py}
          inputs: {conn: test, text: "${inputs.text}"}
        """, "mine.py": """
        from promptflow.connections import OpenAIConnection
        from promptflow.core import tool
        from promptflow.tools.embedding import embedding


        @tool
        def mine(conn: OpenAIConnection, text: str) -> list:
            return embedding(connection=conn, input=text + "!", model="test-model")
        """})
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    assert result.json() == {"vector": [9.0, 2.0, 0.5], "again": [10.0, 2.0, 0.5]}
    bodies = sorted((r.path, r.body["input"], r.body["model"]) for r in server.requests)
    assert bodies == [("/v1/embeddings", "two words", "test-model"), ("/v1/embeddings", "two words!", "test-model")]


def test_the_vision_builtins_send_image_parts_with_the_nodes_detail(server: FakeOpenAI, flow_dir: Path,
                                                                   tmp_path: Path) -> None:
    create_connection(tmp_path, f"name: aoai\ntype: azure_open_ai\napi_key: {server.api_key}\n"
                                f"api_base: {server.url[:-3]}\napi_version: 2024-10-21\n")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    write_flow(flow_dir, {"flow.dag.yaml": """
        inputs:
          question: {type: string, default: What is it?}
        outputs:
          openai: {reference: "${o.output}"}
          azure: {reference: "${a.output}"}
        nodes:
        - name: o
          type: custom_llm
          source: {type: package_with_prompt, tool: promptflow.tools.openai_gpt4v.OpenAI.chat, path: look.jinja2}
          inputs: {connection: test, model: test-model, detail: high, question: "${inputs.question}"}
        - name: a
          type: custom_llm
          source: {type: package_with_prompt, tool: promptflow.tools.aoai_gpt4v.AzureOpenAI.chat, path: look.jinja2}
          inputs: {connection: aoai, deployment_name: gpt-test, question: "${inputs.question}"}
        """, "look.jinja2": "# system:\nDescribe images.\n# user:\n{{ question }}\n![image](pic.png)\n"})
    (flow_dir / "pic.png").write_bytes(png)
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    by_path = {r.path.split("?")[0]: r.body for r in server.requests}
    openai_user = by_path["/v1/chat/completions"]["messages"][1]["content"]
    azure_user = by_path["/openai/deployments/gpt-test/chat/completions"]["messages"][1]["content"]
    image = "data:image/png;base64,iVBORw0KGgoAAAAAAAAAAA=="
    assert openai_user == [{"type": "text", "text": "What is it?"},
                           {"type": "image_url", "image_url": {"url": image, "detail": "high"}}]
    assert azure_user[1] == {"type": "image_url", "image_url": {"url": image, "detail": "auto"}}
    assert result.json()["openai"].startswith("echo: [{")


@pytest.fixture
def serpapi() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A local stand-in for SerpApi: records each query and answers a small result set (401 for a wrong key)."""
    seen: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            query = parse_qs(urlparse(self.path).query)
            seen.append(query)
            ok = query.get("api_key") == ["serp-secret-123"]
            body = json.dumps({"organic_results": [{"title": f"About {query['q'][0]}"}]} if ok else
                              {"error": "Invalid API key. Your API key should be here: https://serpapi.com/manage"})
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}/search", seen
    http.shutdown()
    http.server_close()


def test_serpapi_searches_with_the_connections_key(serpapi: tuple[str, list[dict[str, list[str]]]],
                                                   flow_dir: Path, tmp_path: Path) -> None:
    url, seen = serpapi
    create_connection(tmp_path, f"name: serp\ntype: custom\nconfigs:\n  api_base: {url}\n"
                                "secrets:\n  api_key: serp-secret-123\n")
    create_connection(tmp_path, f"name: badserp\ntype: custom\nconfigs:\n  api_base: {url}\n"
                                "secrets:\n  api_key: wrong-key-456\n")
    flow = """
        inputs:
          q: {type: string, default: flowline}
        outputs:
          found: {reference: "${search.output.organic_results[0].title}"}
        nodes:
        - name: search
          type: python
          source: {type: package, tool: promptflow.tools.serpapi.SerpAPI.search}
          inputs: {connection: serp, query: "${inputs.q}", engine: bing, num: 3, safe: active}
        """
    write_flow(flow_dir, {"flow.dag.yaml": flow})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    assert result.json() == {"found": "About flowline"}
    assert seen == [{"q": ["flowline"], "engine": ["bing"], "api_key": ["serp-secret-123"], "output": ["json"],
                     "safeSearch": ["Strict"], "count": ["3"]}]
    write_flow(flow_dir, {"flow.dag.yaml": flow.replace("connection: serp", "connection: badserp")})
    failed = run_cli("flow", "test", "--flow", str(flow_dir))
    assert failed.code == 1
    assert "SerpApi answered 401: Invalid API key." in failed.stderr and "wrong-key-456" not in failed.stderr


def test_a_connection_of_a_type_the_tool_does_not_take_is_refused_by_name(flow_dir: Path, tmp_path: Path) -> None:
    create_connection(tmp_path, "name: oai\ntype: open_ai\napi_key: sk-secret-value\n")
    flow = DEMO_FLOW.replace("connection: demo", "connection: oai")
    write_flow(flow_dir, {"flow.dag.yaml": flow})
    message = ("Input 'connection' of node 'g' takes a CustomConnection, but connection 'oai' is an open_ai "
               "connection (OpenAIConnection); name a connection of a type it takes (`flowline connection list` "
               "shows them).")
    line, column = position(flow, "oai")
    validated = run_cli("flow", "validate", "--source", str(flow_dir))
    assert f"{flow_dir / 'flow.dag.yaml'}:{line}:{column}: warning: {message} [connection-type]" in validated.stdout
    test = run_cli("flow", "test", "--flow", str(flow_dir))
    assert test.code == 2 and f"flowline: error: {message}" in test.stderr
    assert "KeyError" not in test.stderr and "sk-secret-value" not in test.stderr


@pytest.fixture
def mixed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed package (on PYTHONPATH) whose one entry point lists a good tool, one without metadata and
    one whose module raises when imported."""
    site = tmp_path / "site"
    write_flow(site, {
        "mixed_tools/__init__.py": "",
        "mixed_tools/ok.py": "def f(x: str) -> str:\n    return x.upper()\n",
        "mixed_tools/bad.py": "raise ImportError('bad module cannot import')\n",
        "mixed_tools/listing.py": """
            def tools():
                meta = {"type": "python", "inputs": {"x": {"type": ["string"]}}}
                return {"mixed_tools.none_meta": None,
                        "mixed_tools.ok.f": {**meta, "module": "mixed_tools.ok", "function": "f"},
                        "mixed_tools.bad.f": {**meta, "module": "mixed_tools.bad", "function": "f"}}
            """,
        "mixed_tools-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: mixed-tools\nVersion: 0.1\n",
        "mixed_tools-0.1.dist-info/entry_points.txt": "[package_tools]\nmixed = mixed_tools.listing:tools\n"})
    monkeypatch.setenv("PYTHONPATH", str(site))
    return site


def _mixed_flow(flow_dir: Path, tool: str) -> Path:
    return write_flow(flow_dir, {"flow.dag.yaml": f"""
        outputs:
          out: {{reference: "${{n.output}}"}}
        nodes:
        - name: n
          type: python
          source: {{type: package, tool: {tool}}}
          inputs: {{x: ada}}
        """})


def test_a_bad_entry_skips_only_itself_and_explains_a_missing_tool(mixed_package: Path, flow_dir: Path) -> None:
    _mixed_flow(flow_dir, "mixed_tools.ok.f")
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    test = run_cli("flow", "test", "--flow", str(flow_dir))
    assert test.code == 0, test.stderr
    assert test.json() == {"out": "ADA"}
    _mixed_flow(flow_dir, "mixed_tools.none_meta")
    reason = ("listing some package's tools failed: Package 'mixed-tools' (entry point 'mixed = "
              "mixed_tools.listing:tools') lists a tool Flowline skips: the metadata of tool 'mixed_tools.none_meta' "
              "is not a mapping.")
    validated = run_cli("flow", "validate", "--source", str(flow_dir))
    assert validated.code == 1 and "'mixed_tools.none_meta' of node 'n' is not among the listed tools, and " \
        + reason in validated.stdout
    assert "is not installed" not in validated.stdout


def test_an_import_error_in_a_package_tool_points_at_the_packages_file(mixed_package: Path, flow_dir: Path) -> None:
    _mixed_flow(flow_dir, "mixed_tools.bad.f")
    test = run_cli("flow", "test", "--flow", str(flow_dir))
    assert test.code == 1
    assert f"Node 'n' could not load its tool: ImportError: bad module cannot import " \
           f"({mixed_package / 'mixed_tools' / 'bad.py'}:1)" in test.stderr, test.stderr
    assert "importlib" not in test.stderr


def test_validate_reports_what_the_run_would_refuse(flow_dir: Path) -> None:
    flow = DEMO_FLOW.replace("times: 2", "times: notanumber") + """- name: v
  type: custom_llm
  source: {type: package, tool: promptflow.tools.openai_gpt4v.OpenAI.chat}
  inputs: {connection: demo, model: m, prompt: hi}
"""
    write_flow(flow_dir, {"flow.dag.yaml": flow})
    result = run_cli("flow", "validate", "--source", str(flow_dir), "--json")
    errors = {(p["code"], p["line"], p["column"], p["message"]) for p in result.json() if p["severity"] == "error"}
    needs_prompt = ("Node 'v' uses promptflow.tools.openai_gpt4v.OpenAI.chat, which needs a prompt template: set "
                    "'source: {type: package_with_prompt, tool: ..., path: <file>.jinja2}'.")
    assert errors == {
        ("input-literal-type", *position(flow, "notanumber"),
         "Input 'times' of node 's' is not of type int: 'notanumber' is not a valid int."),
        ("source-needs-prompt", *position(flow, "package, tool: promptflow"), needs_prompt)}
    test = run_cli("flow", "test", "--flow", str(flow_dir))
    assert test.code == 2 and needs_prompt in test.stderr
