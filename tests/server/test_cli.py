"""User mistakes on the command line: one clear message, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, create_connection, one_node_flow, position, run_cli, write_flow

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


def test_an_unknown_input_is_warned_about_and_the_run_goes_on() -> None:
    result = run_cli("flow", "test", "--flow", HELLO, "--inputs", "name=X", "nmae=Y")
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines()[0] == ("flowline: warning: --inputs nmae: the flow has no input 'nmae' (its "
                                             "inputs: name, excited); ignored.")
    assert result.json()["greeting"] == "Hello, X!"


def test_inputs_from_a_file_with_key_value_overrides_later_winning(tmp_path: Path) -> None:
    # promptflow 1.18.5 refuses a file beside pairs in --inputs ("Usage error: --inputs KEY=VALUE");
    # its --input FILE.jsonl --inputs name=over gives the file with the override.
    data = tmp_path / "in.json"
    data.write_text('{"name": "File", "excited": true}')
    result = run_cli("flow", "test", "--flow", HELLO, "--inputs", str(data), "--inputs", "name=over")
    assert result.code == 0, result.stderr
    assert result.json()["greeting"] == "HELLO, OVER!"
    earlier = run_cli("flow", "test", "--flow", HELLO, "--inputs", "name=first", str(data))
    assert earlier.json()["greeting"] == "HELLO, FILE!"


def test_an_inputs_file_that_is_not_utf8_says_where(tmp_path: Path) -> None:
    data = tmp_path / "in.json"
    data.write_bytes('{"name": "José"}'.encode("latin-1"))
    result = run_cli("flow", "test", "--flow", HELLO, "--inputs", str(data))
    assert (result.code, result.stderr) == (
        2, f"flowline: error: --inputs: Inputs file '{data}' is not valid UTF-8: byte 0xE9 at offset 13 (line 1, "
           "column 14); re-save it as UTF-8 (in VS Code: the encoding in the status bar, then 'Save with Encoding').\n")


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
    text = PARTLY_INVALID["flow.dag.yaml"].replace("api: chat", "api: chatt")
    folder = write_flow(tmp_path / "f", {**PARTLY_INVALID, "flow.dag.yaml": text})
    assert run_cli("flow", "test", "--flow", str(folder), "--node", "clean").stdout == '"x"\n'
    line, column = position(text, "chatt")
    problem = f"{folder / 'flow.dag.yaml'}:{line}:{column}: error: Unknown api 'chatt' of node 'ask'."
    refused = run_cli("flow", "test", "--flow", str(folder), "--node", "read", "--inputs", "ask.output.answer=hi")
    assert refused.code == 2 and problem in refused.stderr
    assert refused.stderr.endswith("Node 'read' cannot run: it and the nodes it depends on have 1 error(s) "
                                   "(listed above); fix them before running (see `flowline flow validate`).\n")
    whole = run_cli("flow", "test", "--flow", str(folder))
    assert whole.code == 2 and problem in whole.stderr and "The flow has 1 error(s)" in whole.stderr


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


NESTED = {
    "parent.py": "from flowline import tool\n\n@tool\ndef parent(q: str) -> dict:\n"
                 "    return {'result': {'key1': q}}\n",
    "child.py": "from flowline import tool\n\n@tool\ndef child(v: str) -> str:\n    return 'got ' + v\n",
    "flow.dag.yaml": "inputs:\n  q: {type: string, default: hi}\n"
                     "outputs:\n  out: {reference: '${child.output}'}\n"
                     "nodes:\n- name: parent\n  type: python\n  source: {type: code, path: parent.py}\n"
                     "  inputs: {q: '${inputs.q}'}\n- name: child\n  type: python\n"
                     "  source: {type: code, path: child.py}\n  inputs: {v: '${parent.output.result.key1}'}\n",
}


def test_a_node_run_takes_the_dependency_output_as_the_hint_says_or_whole_as_json(tmp_path: Path) -> None:
    # promptflow 1.18.5 (`pf flow test --node child`, run by hand) takes neither form: "Required input(s)
    # ['v'] are missing for "child"." for both; only `--inputs v=a` (the node input's name) runs there.
    folder = write_flow(tmp_path / "f", NESTED)
    missing = run_cli("flow", "test", "--flow", str(folder), "--node", "child")
    assert missing.code == 2
    assert missing.stderr == ("flowline: error: Required input(s) v of node 'child' not given; pass them with "
                              "--inputs parent.output.result.key1=<value>. The whole output, as JSON, does too: "
                              "--inputs parent.output='{...}'.\n")
    for given in ("parent.output.result.key1=a", 'parent.output={"result": {"key1": "a"}}', "v=a"):
        result = run_cli("flow", "test", "--flow", str(folder), "--node", "child", "--inputs", given)
        assert (result.code, result.stdout) == (0, '"got a"\n'), (given, result.stderr)
    not_json = run_cli("flow", "test", "--flow", str(folder), "--node", "child", "--inputs", "parent.output=a")
    assert not_json.code == 2 and "Traceback" not in not_json.stderr
    assert not_json.stderr.endswith("flowline: error: --inputs parent.output: 'a' is not JSON (Expecting value: line 1 "
                                    "column 1 (char 0)); give the whole output as JSON, or just the value with "
                                    "--inputs parent.output.result.key1=<value>.\n")


def test_what_validate_calls_an_error_stops_flow_test_and_run_create(tmp_path: Path) -> None:
    # promptflow 1.18.5 refuses both when it loads the node (`pf flow test`, run by hand): "(APINotFound) The
    # API 'OpenAI.completion_1' is not found." and "Invalid inputs {'template'} in prompt template of node n.
    # These inputs are duplicated with the reserved parameters of prompt tool.", exit 1.
    create_connection(tmp_path, "name: c\ntype: open_ai\napi_key: none\nbase_url: http://127.0.0.1:9/v1\n")
    api = "nodes:\n- name: n\n  type: llm\n  source: {type: code, path: p.jinja2}\n  connection: c\n" \
          "  api: completion_1\n  inputs: {deployment_name: m}\n"
    reserved = "nodes:\n- name: n\n  type: prompt\n  source: {type: code, path: p.jinja2}\n  inputs: {x: hi}\n"
    data = tmp_path / "data.jsonl"
    data.write_text('{"x": 1}\n')
    for flow, template, message in (
            (api, "Hi.\n", "flow.dag.yaml:6:8: error: Unknown api 'completion_1' of node 'n'. Did you mean "
                           "'completion'? The APIs are chat, completion. [llm-api]"),
            (reserved, "{{ x }} {{ template }}\n", "p.jinja2:1:12: error: Template 'p.jinja2' of node 'n' uses "
             "'{{ template }}', but 'template' is a parameter of the prompt tool; rename the variable (and the "
             "node input that gives it). [template-reserved]")):
        folder = write_flow(tmp_path / f"f{len(flow)}", {"flow.dag.yaml": flow, "p.jinja2": template})
        checked = run_cli("flow", "validate", "--source", str(folder))
        assert (checked.code, checked.stdout) == (1, f"{folder}/{message}\n")
        tested = run_cli("flow", "test", "--flow", str(folder))
        assert tested.code == 2 and tested.stderr.startswith(f"{folder}/{message}\n")
        created = run_cli("run", "create", "--flow", str(folder), "--data", str(data))
        assert created.code == 2 and f"{folder}/{message}" in created.stderr and "Traceback" not in created.stderr


def test_files_that_are_not_utf8_say_so_with_where_and_how_to_fix(tmp_path: Path) -> None:
    fix = "re-save it as UTF-8 (in VS Code: the encoding in the status bar, then 'Save with Encoding')."
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": one_node_flow(), "t.py": "from flowline import tool\n\n"
                                         "@tool\ndef t(text: str) -> str:\n    return text\n"})
    data = tmp_path / "data.jsonl"
    data.write_bytes('{"text": "caf\xe9"}\n'.encode("latin-1"))
    created = run_cli("run", "create", "--flow", str(folder), "--data", str(data))
    assert (created.code, created.stderr) == (2, f"flowline: error: Data file '{data}' is not valid UTF-8: byte 0xE9 "
                                                 f"at offset 13 (line 1, column 14); {fix}\n")
    run_file = tmp_path / "run.yml"
    run_file.write_bytes(f"flow: {folder}\ndata: data.jsonl\n# r\xe9sum\xe9\n".encode("latin-1"))
    from_yaml = run_cli("run", "create", "-f", str(run_file))
    assert from_yaml.code == 2 and from_yaml.stderr.startswith(f"flowline: error: Run file '{run_file}' is not valid "
                                                               "UTF-8: byte 0xE9 at offset")
    (folder / "flow.dag.yaml").write_bytes(one_node_flow().encode() + "# caf\xe9\n".encode("latin-1"))
    tested = run_cli("flow", "test", "--flow", str(folder), "--inputs", "text=a")
    assert tested.code == 2 and "Traceback" not in tested.stderr
    bad_line = one_node_flow().count("\n") + 1  # the problem is at the byte: the é of "# café"
    assert tested.stderr.startswith(f"{folder / 'flow.dag.yaml'}:{bad_line}:6: error: flow.dag.yaml is not valid "
                                    "UTF-8: byte 0xE9 at offset")
    connection = tmp_path / "c.yaml"
    connection.write_bytes("name: c\ntype: open_ai\napi_key: s\xe9\n".encode("latin-1"))
    stored = run_cli("connection", "create", "--file", str(connection))
    assert (stored.code, stored.stderr) == (2, f"flowline: error: Connection file '{connection}' is not valid UTF-8: "
                                               f"byte 0xE9 at offset 32 (line 3, column 11); {fix}\n")


ENV_FLOW = {"flow.dag.yaml": """
    environment_variables:
      FROM_FLOW: flow
      REPLACED: flow
      KEY: ${env_conn.api_key}
    outputs:
      seen: {reference: "${read.output}"}
    nodes:
    - name: read
      type: python
      source: {type: code, path: read.py}
""", "read.py": """
    import os

    from flowline import tool


    @tool
    def read() -> dict:
        names = ["FROM_FLOW", "REPLACED", "ADDED", "LATER", "FROM_FILE", "QUOTED"]
        return {**{n: os.environ.get(n) for n in names}, "KEY": len(os.environ["KEY"]),
                "KEY_OK": os.environ["KEY"][::-1] == "4321-terces-yrev-ks"}
"""}
ENV_CONNECTION = ("name: env_conn\ntype: custom\nconfigs: {endpoint: http://e.test}\n"
                  "secrets: {api_key: sk-very-secret-1234}\n")


def test_flow_test_environment_variables_replace_the_flows_and_read_connections(tmp_path: Path) -> None:
    """Observed with promptflow 1.18.5 (`pf flow test --environment-variables O=cli Q='${my_conn.api_key}'
    --environment-variables R=r2`, and a .env file): the command line's values replace the flow's of the
    same name, the others stay, repeated flags add up, `${conn.field}` is the stored connection's field,
    a .env file gives KEY=VALUE lines with quotes removed."""
    create_connection(tmp_path, ENV_CONNECTION)
    folder = write_flow(tmp_path / "f", ENV_FLOW)
    dotenv = tmp_path / "more.env"
    dotenv.write_text("# comment\nFROM_FILE=file\nQUOTED=\"in quotes\"\n")
    events = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(folder), "--environment-variables", "REPLACED=cli",
                     "ADDED=${env_conn.endpoint}", "--environment-variables", "LATER=2", str(dotenv),
                     "--events", str(events))
    assert result.code == 0, result.stderr
    assert result.json() == {"seen": {"FROM_FLOW": "flow", "REPLACED": "cli", "ADDED": "http://e.test", "LATER": "2",
                                      "FROM_FILE": "file", "QUOTED": "in quotes", "KEY": 19, "KEY_OK": True}}
    assert "sk-very-secret" not in events.read_text() + result.stderr


@pytest.mark.parametrize("value,message", [
    # promptflow 1.18.5 raises ConnectionNotFoundError for a flow's value naming an unknown connection and
    # passes '${nope.api_key}' on as text when the command line names it; Flowline refuses both (§10).
    ("K=${nope.api_key}", "flowline: error: Environment variable K: Connection 'nope' does not exist (known: "
                          "env_conn). Create it with `flowline connection create --file <file>.yaml --name nope`."),
    # promptflow 1.18.5 passes the text '${env_conn.nokey}' on as the value (observed).
    ("K=${env_conn.nokey}", "flowline: error: Environment variable K: connection 'env_conn' has no field 'nokey' "
                            "(its fields: api_key, endpoint)."),
    # promptflow 1.18.5: "Usage error: --environment-variables expects file path endswith .env or
    # KEY=VALUE [KEY=VALUE ...]", with a traceback, exit 1.
    ("K", "flowline: error: --environment-variables: 'K' is neither KEY=VALUE nor a .env file."),
])
def test_environment_variable_mistakes_are_one_line(tmp_path: Path, value: str, message: str) -> None:
    create_connection(tmp_path, ENV_CONNECTION)
    folder = write_flow(tmp_path / "f", ENV_FLOW)
    result = run_cli("flow", "test", "--flow", str(folder), "--environment-variables", value)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.rstrip("\n").split("\n")[-1] == message and "Traceback" not in result.stderr


def test_repeated_multi_value_options_add_up(tmp_path: Path) -> None:
    """promptflow 1.18.5 (observed): `pf flow test --inputs a=1 --inputs b=2` gives both inputs and
    `--inputs b=2 --inputs b=3` the last; `--column-mapping a=... --column-mapping b=...` maps both."""
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": """
        inputs:
          a: {type: string, default: da}
          b: {type: string, default: db}
        outputs:
          o: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {a: "${inputs.a}", b: "${inputs.b}"}
    """, "t.py": "from flowline import tool\n\n@tool\ndef t(a: str, b: str) -> str:\n    return a + '|' + b\n"})
    assert run_cli("flow", "test", "--flow", str(folder), "--inputs", "a=1", "--inputs", "b=2").json() == {"o": "1|2"}
    assert run_cli("flow", "test", "--flow", str(folder), "--inputs", "b=2", "--inputs", "b=3").json() == {"o": "da|3"}
    data = tmp_path / "d.jsonl"
    data.write_text('{"x": "A", "y": "B"}\n')
    created = run_cli("run", "create", "--flow", str(folder), "--data", str(data), "--name", "both",
                      "--column-mapping", "a=${data.x}", "--column-mapping", "b=${data.y}")
    assert created.code == 0, created.stderr
    shown = run_cli("run", "show-details", "--name", "both", "--json").json()
    assert shown[0]["outputs"] == {"o": "A|B"}
    spec = tmp_path / "c.yaml"
    spec.write_text("name: c\ntype: custom\nconfigs: {}\nsecrets: {}\n")
    stored = run_cli("connection", "create", "--file", str(spec), "--set", "configs.one=1", "--set", "configs.two=2")
    assert stored.code == 0, stored.stderr
    assert stored.json()["configs"] == {"one": "1", "two": "2"}
