"""User mistakes on the command line: one clear message, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, create_connection, position, run_cli, write_flow

HELLO = str(SAMPLES / "hello")


@pytest.mark.parametrize("args,message", [
    (["flow", "test", "--flow", "/no/such/flow"], "No flow found at '/no/such/flow'"),
    (["flow", "test", "--flow", HELLO, "--inputs", "nonsense"], "'nonsense' is neither k=v nor an existing JSON file"),
    (["flow", "test", "--flow", HELLO, "--inputs", "excited=perhaps"],
     "The value of flow input 'excited' is not of type bool: 'perhaps' is not true or false."),
    (["flow", "test", "--flow", HELLO, "--node", "nope"], "The flow has no node 'nope' (nodes: greet, shout)."),
    (["flow", "test", "--flow", HELLO, "--variant", "oops"], "--variant must look like"),
    (["flow", "test", "--flow", HELLO, "--variant", "${greet.v1}"], "Node 'greet' has no variants"),
    (["flow", "test", "--flow", HELLO, "--events", "/no/such/dir/e.jsonl"], "--events: cannot write"),
    (["flow", "test"], "the following arguments are required: --flow"),
    (["flow", "validate", "--source", "/no/such/flow"], "No flow found"),
    (["flow", "init", "--flow", HELLO], "already has a flow.dag.yaml"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_usage_errors(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_required_input(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", {
        "t.py": "from flowline import tool\n\n@tool\ndef t(q: str) -> str:\n    return q\n",
        "flow.dag.yaml": "inputs:\n  q: {type: string}\nnodes:\n- name: t\n  type: python\n"
                         "  source: {type: code, path: t.py}\n  inputs: {q: '${inputs.q}'}\n"})
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 2
    assert "Required flow input(s) q not given and without default; pass them with --inputs q=<value>." \
        in result.stderr


def test_invalid_flow_is_refused_with_positions(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": "nodes:\n- name: a\n  type: python\n"
                                                          "  source: {type: code, path: gone.py}\n"})
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 2
    assert f"{folder / 'flow.dag.yaml'}:4:30: error: Source file 'gone.py' of node 'a' was not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_yaml_is_refused(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": "nodes: [\n"})
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 2
    assert "YAML syntax error" in result.stderr and "Traceback" not in result.stderr


def test_inputs_from_json_file(tmp_path: Path) -> None:
    data = tmp_path / "in.json"
    data.write_text('{"name": "File", "excited": true}')
    result = run_cli("flow", "test", "--flow", HELLO, "--inputs", str(data))
    assert result.code == 0, result.stderr
    assert result.json() == {"greeting": "HELLO, FILE!", "length": 12}


def test_module_entry_point_and_version() -> None:
    result = run_cli("--version")
    assert result.code == 0 and result.stdout.startswith("flowline ")


@pytest.mark.parametrize("kind", ["standard", "chat", "evaluation"])
def test_init_templates_validate(kind: str, tmp_path: Path) -> None:
    create_connection(tmp_path, "name: local\ntype: open_ai\napi_key: none\nbase_url: http://127.0.0.1:9/v1\n")
    folder = tmp_path / kind
    created = run_cli("flow", "init", "--flow", str(folder), "--type", kind)
    assert created.code == 0, created.stderr
    result = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert result.code == 0 and result.json() == []


def test_standard_template_runs(tmp_path: Path) -> None:
    folder = tmp_path / "standard"
    run_cli("flow", "init", "--flow", str(folder))
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 0, result.stderr
    assert result.json() == {"output_prompt": 'Prompt: Write a simple program that displays "Hello Flowline".\n'}


PARTLY_INVALID = {
    "clean.py": "from flowline import tool\n\n@tool\ndef clean(text: str) -> str:\n    return text\n",
    "read.py": "from flowline import tool\n\n@tool\ndef read(text: str) -> str:\n    return text.upper()\n",
    "ask.jinja2": "Say hi.\n",
    "flow.dag.yaml": "nodes:\n- name: clean\n  type: python\n  source: {type: code, path: clean.py}\n"
                     "  inputs: {text: x}\n- name: read\n  type: python\n  source: {type: code, path: read.py}\n"
                     "  inputs: {text: '${ask.output.answer}'}\n"
                     "- name: ask\n  type: llm\n  source: {type: code, path: ask.jinja2}\n  connection: nowhere\n"
                     "  api: chat\n  inputs: {deployment_name: m}\n",
}


def test_a_node_run_needs_only_that_node_and_its_upstream_nodes_to_be_valid(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", PARTLY_INVALID)
    assert run_cli("flow", "test", "--flow", str(folder), "--node", "clean").stdout == '"x"\n'
    line, column = position(PARTLY_INVALID["flow.dag.yaml"], "nowhere")
    problem = (f"{folder / 'flow.dag.yaml'}:{line}:{column}: error: Node 'ask' uses connection 'nowhere', which "
               "does not exist.")
    refused = run_cli("flow", "test", "--flow", str(folder), "--node", "read", "--inputs", "ask.output.answer=hi")
    assert refused.code == 2 and refused.stderr.startswith(problem)
    assert refused.stderr.endswith("Node 'read' cannot run: it and the nodes it depends on have 1 error(s) "
                                   "(listed above); fix them before running (see `flowline flow validate`).\n")
    whole = run_cli("flow", "test", "--flow", str(folder))
    assert whole.code == 2 and whole.stderr.startswith(problem) and "The flow has 1 error(s)" in whole.stderr


def test_a_node_takes_a_dependency_output_whole_even_when_it_reads_a_path(tmp_path: Path) -> None:
    create_connection(tmp_path, "name: nowhere\ntype: open_ai\napi_key: none\nbase_url: http://127.0.0.1:9/v1\n")
    folder = write_flow(tmp_path / "f", PARTLY_INVALID)
    given = tmp_path / "given.json"
    given.write_text('{"ask.output": {"answer": "hi"}}')
    result = run_cli("flow", "test", "--flow", str(folder), "--node", "read", "--inputs", str(given))
    assert result.code == 0, result.stderr
    assert result.json() == "HI"
    missing = run_cli("flow", "test", "--flow", str(folder), "--node", "read")
    assert missing.code == 2 and "Required input(s) text of node 'read' not given; pass them with --inputs " \
        "ask.output.answer=<value>." in missing.stderr


def _store(tmp_path: Path, *names: str) -> None:
    for name in names:
        create_connection(tmp_path, f"name: {name}\ntype: open_ai\napi_key: none\nbase_url: http://127.0.0.1:9/v1\n")


@pytest.mark.parametrize("stored,expected", [(["zeta", "local", "alpha"], "local"), (["zeta", "alpha"], "alpha")])
def test_chat_template_names_a_stored_connection(stored: list[str], expected: str, tmp_path: Path) -> None:
    _store(tmp_path, *stored)
    folder = tmp_path / "chat"
    created = run_cli("flow", "init", "--flow", str(folder), "--type", "chat", "--json")
    assert created.code == 0, created.stderr
    made = created.json()
    assert (made["flow"], made["connection"], made["connection_stored"]) == (str(folder.resolve()), expected, True)
    assert f"Its LLM node uses connection '{expected}'." in created.stderr
    text = (folder / "flow.dag.yaml").read_text()
    assert f"  connection: {expected}\n" in text and "#" not in text
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert validated.code == 0 and validated.json() == []


def test_chat_template_without_a_stored_connection_says_how_to_create_it(tmp_path: Path) -> None:
    folder = tmp_path / "chat"
    created = run_cli("flow", "init", "--flow", str(folder), "--type", "chat", "--json")
    assert created.code == 0, created.stderr
    assert (created.json()["connection"], created.json()["connection_stored"]) == ("local", False)
    note = ("Connection 'local' is not stored yet: create it with `flowline connection create --file <file>.yaml` "
            "(`flowline local-llm start` creates 'local'), or in VS Code with 'Flowline: Create Connection...'.")
    assert note in created.stderr
    assert ("  # Connection 'local' is not stored yet. Create it with one of:\n"
            "  #   flowline local-llm start    (serves the local model as 'local')\n"
            "  #   flowline connection create --file <file>.yaml\n"
            "  #   VS Code: 'Flowline: Create Connection...'\n"
            "  # or name a stored connection here (flowline connection list).\n"
            "  connection: local\n") in (folder / "flow.dag.yaml").read_text()
    validated = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert [p["code"] for p in validated.json()] == ["unknown-connection"]


def test_templates_without_llm_nodes_name_no_connection(tmp_path: Path) -> None:
    _store(tmp_path, "alpha")
    for kind in ("standard", "evaluation"):
        created = run_cli("flow", "init", "--flow", str(tmp_path / kind), "--type", kind, "--json")
        assert created.code == 0 and created.json()["connection"] is None, created.stderr
        assert "connection" not in created.stderr
