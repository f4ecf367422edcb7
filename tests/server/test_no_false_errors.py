"""Flows Prompt flow accepts open clean: variants give an LLM node its connection, every key promptflow
1.18.5 reads is known, and a connection this machine lacks is a warning (with a quick fix that creates
it) that fails the run only at the node that needs it, saying how to create it.

What promptflow does was observed by hand with promptflow 1.18.5 (`pf flow validate`, `pf flow test`):
unknown keys are "Unknown field." (its SDK schema's warnings, which also name `message_format`,
`inputs.*.enum` and `outputs.*.evaluation_only` although its executor reads them), and a flow naming a
connection that is not created fails when the test starts: "ConnectionNotFoundError: Connection 'nosuch'
is not found."
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import create_connection, position, run_cli, write_flow
from lsp_wire import WireClient
from openai_server import FakeOpenAI


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    create_connection(tmp_path, f"name: test\ntype: open_ai\napi_key: {fake.api_key}\nbase_url: {fake.url}\n")
    yield fake
    fake.stop()


def variant(connection: str, text: str = "${inputs.text}", description: str = "") -> str:
    about = f"        description: {description}\n" if description else ""
    return (about + "        node:\n          type: llm\n          source: {type: code, path: p.jinja2}\n"
            f"          connection: {connection}\n          api: chat\n"
            f"          inputs: {{deployment_name: test-model, text: '{text}'}}\n")


# As Prompt flow saves a flow whose node has variants: the node keeps type and source, the variants
# carry connection and api.
VARIANTS = ("inputs:\n  text: {type: string, default: hi}\n"
            "outputs:\n  out: {type: string, reference: '${summ.output}'}\n"
            "nodes:\n- name: summ\n  type: llm\n  source: {type: code, path: p.jinja2}\n"
            "  inputs: {text: '${inputs.text}'}\n  use_variants: true\n"
            "node_variants:\n  summ:\n    default_variant_id: v0\n    variants:\n      v0:\n" + variant("test")
            + "      v1:\n" + variant("test", "fixed", "a fixed text"))


def test_a_node_with_variants_takes_connection_and_api_from_them(model: FakeOpenAI, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": VARIANTS, "p.jinja2": "user:\n{{ text }}\n"})
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert (validated.code, validated.json()) == (0, [])
    ran = run_cli("flow", "test", "--flow", str(folder), "--variant", "${summ.v1}")
    assert ran.code == 0, ran.stderr
    assert ran.json() == {"out": "echo: fixed"}


def test_a_variant_still_needs_what_its_node_needs(tmp_path: Path) -> None:
    broken = VARIANTS.replace("          api: chat\n", "          api: chatt\n", 1)
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": broken, "p.jinja2": "user:\n{{ text }}\n"})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    assert [(p["code"], p["line"], p["column"]) for p in problems if p["severity"] == "error"] == [
        ("llm-api", *position(broken, "chatt"))]


EVERY_KEY = """\
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
id: my_flow
name: My flow
display_name: My flow
description: Every key promptflow 1.18.5 reads.
type: chat
language: python
tags: {team: docs}
message_format: openai-vision
environment:
  python_requirements_txt: requirements.txt
  image: python:3.11
environment_variables: {MODE: test}
additional_includes: []
inputs:
  question: {type: string, default: hi, description: What to ask., enum: [hi, ho], is_chat_input: true}
  chat_history: {type: list, default: [], is_chat_history: true}
outputs:
  answer: {type: string, reference: '${echo.output}', description: The answer., is_chat_output: true}
  score: {type: string, reference: '${echo.output}', evaluation_only: false}
nodes:
- name: echo
  type: python
  source: {type: code, path: t.py}
  inputs: {x: '${inputs.question}'}
  comment: says it back
  description: says it back
  enable_cache: false
  aggregation: false
  activate: {when: '${inputs.question}', is: hi}
"""

TOOL = "from promptflow import tool\n\n\n@tool\ndef t(x: str) -> str:\n    return x\n"


def test_every_key_promptflow_reads_is_accepted(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": EVERY_KEY, "t.py": TOOL})
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert (validated.code, validated.json()) == (0, [])
    ran = run_cli("flow", "test", "--flow", str(folder), "--inputs", "question=hi")
    assert ran.code == 0, ran.stderr
    assert ran.json() == {"answer": "hi", "score": "hi"}


@pytest.mark.parametrize("flow,key", [
    (EVERY_KEY.replace("tags:", "tagz:"), "tagz"),
    (EVERY_KEY.replace("is_chat_output: true", "is_chat_output: true, shown: no"), "shown"),
    (EVERY_KEY.replace("  comment:", "  coment:"), "coment"),
    (EVERY_KEY.replace("message_format: openai-vision", "message_format: vision"), "vision"),
])
def test_keys_promptflow_calls_unknown_stay_errors(tmp_path: Path, flow: str, key: str) -> None:
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "t.py": TOOL})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    assert [(p["severity"], p["line"], p["column"]) for p in problems] == [("error", *position(flow, key))]


LLM = ("inputs:\n  q: {type: string, default: hi}\noutputs:\n  a: {reference: '${ask.output}'}\nnodes:\n"
       "- name: ask\n  type: llm\n  source: {type: code, path: p.jinja2}\n{connection}  api: chat\n"
       "  inputs: {deployment_name: test-model, q: '${inputs.q}'}\n")


def test_a_connection_this_machine_lacks_is_a_warning_and_fails_the_run_at_its_node(tmp_path: Path) -> None:
    flow = LLM.replace("{connection}", "  connection: team-gpt\n")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": "user:\n{{ q }}\n"})
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert validated.code == 0
    assert [(p["code"], p["severity"], p["line"], p["column"], p["message"]) for p in validated.json()] == [
        ("unknown-connection", "warning", *position(flow, "team-gpt"),
         "Node 'ask' uses connection 'team-gpt', which is not created on this machine. Known: none; create it with "
         "'Flowline: Create Connection...' in VS Code or `flowline connection create --file <file>.yaml --name "
         "team-gpt`.")]
    ran = run_cli("flow", "test", "--flow", str(folder))
    assert ran.code == 2 and ran.stdout == ""
    assert ran.stderr.splitlines()[-1] == (
        "flowline: error: Node 'ask' cannot run: Connection 'team-gpt' does not exist (known: none). Create it with "
        "`flowline connection create --file <file>.yaml --name team-gpt`.")
    assert "Traceback" not in ran.stderr


def test_a_tool_connection_this_machine_lacks_fails_its_node_by_name(tmp_path: Path) -> None:
    tool = ("from promptflow.connections import CustomConnection\nfrom promptflow import tool\n\n\n@tool\n"
            "def use(conn: CustomConnection) -> str:\n    return conn.name\n")
    flow = "nodes:\n- name: use\n  type: python\n  source: {type: code, path: use.py}\n  inputs: {conn: vault}\n"
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "use.py": tool})
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert [(p["code"], p["severity"]) for p in validated.json()] == [("unknown-connection", "warning")]
    ran = run_cli("flow", "test", "--flow", str(folder))
    assert ran.code != 0 and "Traceback" not in ran.stderr
    assert "Node 'use' cannot run: Connection 'vault' does not exist (known: none). Create it with " \
           "`flowline connection create --file <file>.yaml --name vault`." in ran.stderr


def test_an_llm_node_without_connection_is_a_warning_and_runs_with_one_given(model: FakeOpenAI,
                                                                             tmp_path: Path) -> None:
    flow = LLM.replace("{connection}", "")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": "user:\n{{ q }}\n"})
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert validated.code == 0
    assert [(p["code"], p["severity"], p["line"], p["column"], p["message"]) for p in validated.json()] == [
        ("llm-connection-missing", "warning", *position(flow, "ask\n"),
         "LLM node 'ask' names no connection; write 'connection: <name>' (see `flowline connection list`) or give "
         "one when running: `flowline run create ... --connections ask.connection=<name>`.")]
    alone = run_cli("flow", "test", "--flow", str(folder))
    assert alone.code == 2
    assert alone.stderr.splitlines()[-1] == (
        "flowline: error: LLM node 'ask' names no connection: write 'connection: <name>' in the flow, or give one "
        "to a batch run with `--connections ask.connection=<name>`.")
    data = tmp_path / "data.jsonl"
    data.write_text('{"q": "first"}\n{"q": "second"}\n')
    batch = run_cli("run", "create", "--flow", str(folder), "--data", str(data), "--column-mapping", "q=${data.q}",
                    "--connections", "ask.connection=test", "--name", "given")
    assert batch.code == 0, batch.stderr
    assert (batch.json()["lines_completed"], batch.json()["lines_failed"]) == (2, 0)
    details = run_cli("run", "show-details", "--name", "given", "--json").json()
    assert [d["outputs"] for d in details] == [{"a": "echo: first"}, {"a": "echo: second"}]


def test_the_quick_fix_opens_create_connection_with_the_name(tmp_path: Path) -> None:
    # Over the wire (the JSON the editor gets): pytest-lsp's client reads a code action that carries a
    # command as a bare Command, so it cannot show this.
    flow = LLM.replace("{connection}", "  connection: team-gpt\n")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": "user:\n{{ q }}\n"})
    client = WireClient(tmp_path)
    try:
        uri = (folder / "flow.dag.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": flow}})
        published = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p["diagnostics"])
        [diagnostic] = published["params"]["diagnostics"]
        line, column = position(flow, "team-gpt")
        assert (diagnostic["code"], diagnostic["severity"]) == ("unknown-connection", 2)  # 2: Warning
        assert diagnostic["range"]["start"] == {"line": line - 1, "character": column - 1}
        actions = client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}})
        assert actions == [{
            "title": "Create connection 'team-gpt'...", "kind": "quickfix", "isPreferred": True,
            "diagnostics": [diagnostic],
            "command": {"title": "Create connection 'team-gpt'...", "command": "flowline.createConnection",
                        "arguments": ["team-gpt"]}}]
    finally:
        assert "Traceback" not in client.close()
