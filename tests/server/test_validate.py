"""`flowline flow validate`: every problem class, with its code and exact `file:line:col`.

Each case writes a small flow whose only mistake is the one named, runs the real command with
--json, and asserts the code and the 1-based position of the marked text (the first occurrence
of `at`, or its n-th with `nth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import position, run_cli, write_flow

TOOL = '''
from flowline import tool


@tool
def t(x: str = "") -> str:
    return x
'''


@dataclass
class Case:
    code: str
    flow: str
    at: str
    nth: int = 1
    files: dict[str, str] = field(default_factory=dict)
    message: str = ""
    severity: str = "error"


def node(name: str, inputs: str = "", extra: str = "", path: str = "t.py", type_: str = "python") -> str:
    block = f"- name: {name}\n  type: {type_}\n  source:\n    type: code\n    path: {path}\n"
    if inputs:
        block += "  inputs:\n" + "".join(f"    {line}\n" for line in inputs.split("; "))
    return block + extra


CASES = [
    Case("yaml-syntax", "inputs:\n  q: {type: string\nnodes: []\n", ": []", message="started at 2:6"),
    Case("structure", "nodes: five\n", "five"),
    Case("duplicate-node", "nodes:\n" + node("dup") + node("dup"), "dup", 2, message="Duplicate node name 'dup'"),
    Case("unknown-node", "nodes:\n" + node("a", "x: ${nope.output}"), "nope", message="unknown node 'nope'"),
    Case("unknown-node",
         "nodes:\n" + node("a") + node("b", extra="  activate:\n    when: ${ghost.output}\n    is: 1\n"), "ghost"),
    Case("unknown-node", "outputs:\n  o:\n    reference: ${nothere.output}\nnodes:\n" + node("a"), "nothere"),
    Case("unknown-input", "inputs:\n  question: {type: string}\nnodes:\n" + node("a", "x: ${inputs.questoin}"),
         "questoin", message="Did you mean 'question'?"),
    Case("self-reference", "nodes:\n" + node("selfy", "x: ${selfy.output}"), "selfy", 2),
    Case("cycle", "nodes:\n" + node("ping", "x: ${pong.output}") + node("pong", "x: ${ping.output}"), "ping",
         message="ping -> pong -> ping"),
    Case("aggregation-reference",
         "nodes:\n" + node("agg", extra="  aggregation: true\n") + node("line", "x: ${agg.output}"), "agg.output"),
    Case("aggregation-activate",
         "nodes:\n" + node("first") + node("agg", extra="  aggregation: true\n  activate:\n    when: ${first.output}\n"
                                                         "    is: yes\n"), "first", 2),
    Case("output-reference-missing", "outputs:\n  answer:\n    type: string\nnodes:\n" + node("a"), "answer"),
    Case("source-not-found", "nodes:\n" + node("a", path="missing.py"), "missing.py"),
    Case("source-missing", "nodes:\n- name: nosrc\n  type: python\n", "nosrc"),
    Case("tool-count", "nodes:\n" + node("a", path="plain.py"), "plain.py",
         files={"plain.py": "def t(x):\n    return x\n"}, message="has no function decorated with @tool"),
    Case("tool-count", "nodes:\n" + node("a", path="two.py"), "two.py",
         files={"two.py": "from flowline import tool\n\n@tool\ndef a():\n    pass\n\n@tool\ndef b():\n    pass\n"},
         message="has 2 @tool functions (a, b)"),
    Case("tool-syntax", "nodes:\n" + node("a", path="broken.py"), "broken.py",
         files={"broken.py": "from flowline import tool\n\n@tool\ndef t(x:\n"}),
    Case("unknown-parameter", "nodes:\n" + node("a", "x: 1; y: 2"), "y:", message="has no parameter 'y'"),
    Case("missing-parameter", "nodes:\n" + node("needy", path="req.py"), "needy",
         files={"req.py": "from flowline import tool\n\n@tool\ndef t(required: int):\n    return required\n"},
         message="required input 'required'"),
    Case("template-variable", "nodes:\n" + node("render", "name: x", path="p.jinja2", type_="prompt"), "render",
         files={"p.jinja2": "Hi {{ name }} from {{ place }}\n"}, severity="warning", message="'{{ place }}'"),
    Case("template-syntax", "nodes:\n" + node("render", path="bad.jinja2", type_="prompt"), "bad.jinja2",
         files={"bad.jinja2": "Hi {% if %}\n"}),
    Case("template-syntax", "nodes:\n" + node("render", path="loop.jinja2", type_="prompt"), "loop.jinja2",
         files={"loop.jinja2": "{% for a in x %}{{ a }}{% endfo %}"},
         message="The innermost block that needs to be closed is 'for'."),
    Case("node-type", "nodes:\n" + node("a", type_="pyton"), "pyton", message="Did you mean 'python'?"),
    Case("node-type-missing", "nodes:\n- name: untyped\n  source:\n    type: code\n    path: t.py\n", "untyped"),
    Case("source-type", "nodes:\n- name: a\n  type: python\n  source:\n    type: cod\n    path: t.py\n", "type: cod",
         message="Did you mean 'code'?"),
    Case("input-type", "inputs:\n  q:\n    type: strng\nnodes:\n" + node("a"), "strng",
         message="Did you mean 'string'?"),
    Case("input-default", "inputs:\n  n:\n    type: int\n    default: many\nnodes:\n" + node("a"), "many"),
    Case("input-literal-type", "nodes:\n" + node("a", "n: lots", path="num.py"), "lots",
         files={"num.py": "from flowline import tool\n\n@tool\ndef t(n: int | None = None):\n    return n\n"},
         message="Input 'n' of node 'a' is not of type int: 'lots' is not a valid int."),
    Case("variant-missing", "nodes:\n- name: v\n  use_variants: true\n", "v\n"),
    Case("variant-default-unknown",
         "nodes:\n- name: v\n  use_variants: true\nnode_variants:\n  v:\n    default_variant_id: variant_9\n"
         "    variants:\n      variant_0:\n        node:\n          type: python\n          source:\n"
         "            type: code\n            path: t.py\n", "variant_9", message="Did you mean 'variant_0'?"),
    Case("variant-empty", "nodes:\n- name: v\n  use_variants: true\nnode_variants:\n  v:\n"
                          "    default_variant_id: variant_0\n    variants: {}\n", "variant_0"),
    Case("chat-input-multiple", "inputs:\n  a: {type: string, is_chat_input: true}\n"
                                "  b: {type: string, is_chat_input: true}\noutputs:\n"
                                "  o: {reference: '${n.output}', is_chat_output: true}\nnodes:\n" + node("n"), "b:"),
    Case("chat-output-missing", "inputs:\n  q: {type: string, is_chat_input: true}\noutputs:\n"
                                "  o: {reference: '${n.output}'}\nnodes:\n" + node("n"), "q:"),
    Case("chat-history-type", "inputs:\n  q: {type: string, is_chat_input: true}\n"
                              "  h: {type: string, is_chat_history: true}\noutputs:\n"
                              "  o: {reference: '${n.output}', is_chat_output: true}\nnodes:\n" + node("n"),
         "string, is_chat_history"),
    Case("reference-index", "nodes:\n" + node("src") + node("b", "x: ${src.output[0]}"), "${src.output[0]}",
         message="Write '${src.output.[0]}'"),
    Case("reference-section", "nodes:\n" + node("src") + node("b", "x: ${src.outputs}"), "${src.outputs}"),
    Case("reference-property", "nodes:\n" + node("src") + node("b", "x: ${src.output.my-key}"), "${src.output.my",
         severity="warning"),
    Case("activate-incomplete", "nodes:\n" + node("a", extra="  activate:\n    when: ${inputs.q}\n"), "when"),
    Case("node-name-missing", "nodes:\n- type: python\n  source:\n    type: code\n    path: t.py\n", "type"),
    Case("include-not-found", "additional_includes:\n- ../shared/nowhere.py\nnodes:\n" + node("a"), "../shared"),
    Case("llm-model-missing", "nodes:\n" + node("ask", "deployment_name: ''; q: hi", "  connection: c\n  api: chat\n",
                                            path="p.jinja2", type_="llm"),
         "''", files={"p.jinja2": "user:\n{{ q }}\n"}, message="'deployment_name' is empty"),
    Case("schema-unknown-key", "nodez: []\n", "nodez", message="Unknown key 'nodez'"),
    Case("schema", "inputs:\n  q:\n    type: string\n    is_chat_input: maybe\nnodes:\n" + node("a"), "maybe"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code}-{i}" for i, c in enumerate(CASES)])
def test_problem_reported_at_exact_position(case: Case, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": case.flow, "t.py": TOOL, **case.files})
    result = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert "Traceback" not in result.stderr
    problems = result.json()
    line, column = position(case.flow, case.at, case.nth)
    matching = [p for p in problems if p["code"] == case.code]
    assert matching, f"no {case.code} in {problems}"
    assert (matching[0]["line"], matching[0]["column"]) == (line, column), matching[0]
    assert matching[0]["severity"] == case.severity
    assert case.message in matching[0]["message"]
    assert not [p for p in problems if p["message"].endswith("..")], "a library's own full stop doubled"
    assert result.code == (1 if any(p["severity"] == "error" for p in problems) else 0)


def test_text_output_is_file_line_col(tmp_path: Path) -> None:
    text = "nodes:\n" + node("a", "x: ${nope.output}")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": text, "t.py": TOOL})
    result = run_cli("flow", "validate", "--source", str(folder))
    assert result.code == 1
    line, column = position(text, "nope")
    assert result.stdout == (f"{folder / 'flow.dag.yaml'}:{line}:{column}: error: Input 'x' of node 'a' references "
                             "unknown node 'nope'. [unknown-node]\n")


def test_a_yaml_syntax_error_is_the_only_problem_of_its_line(tmp_path: Path) -> None:
    """`${n.output` cut at the error reads as the literal `$`: no output-literal warning about the cut."""
    text = "inputs:\n  x: {type: string}\noutputs:\n  o: {type: string, reference: ${n.output}\n" + node(
        "n", "x: ${inputs.x}")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": text, "t.py": TOOL})
    result = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert [p["code"] for p in result.json()] == ["yaml-syntax"]


def test_valid_samples_have_no_problems(tmp_path: Path) -> None:
    from conftest import SAMPLES, create_connection

    create_connection(tmp_path, (SAMPLES / "connections" / "local.yaml").read_text())
    for sample in sorted(p for p in SAMPLES.iterdir() if (p / "flow.dag.yaml").exists()):
        result = run_cli("flow", "validate", "--source", str(sample), "--json")
        assert result.code == 0 and result.json() == [], (sample, result.stdout)


def test_run_and_connection_schemas_accept_the_samples_and_describe_every_property() -> None:
    import json

    from conftest import REPO, SAMPLES
    from flowline.flow.parse import parse, to_python
    from jsonschema import Draft202012Validator

    def described(node: object) -> bool:
        if isinstance(node, dict):
            for key in ("properties",):
                for spec in (node.get(key) or {}).values():
                    if isinstance(spec, dict) and "description" not in spec:
                        return False
            # `if` / `not` blocks are conditions, not documentation.
            return all(described(v) for k, v in node.items() if k not in ("if", "not"))
        if isinstance(node, list):
            return all(described(v) for v in node)
        return True

    for name in ("flow", "run", "connection"):
        schema = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())
        Draft202012Validator.check_schema(schema)
        assert described(schema), name
    connection = Draft202012Validator(json.loads((REPO / "schemas" / "connection.schema.json").read_text()))
    for path in (SAMPLES / "connections").glob("*.yaml"):
        assert list(connection.iter_errors(to_python(parse(path.read_text()).root))) == [], path
    run = Draft202012Validator(json.loads((REPO / "schemas" / "run.schema.json").read_text()))
    assert list(run.iter_errors({"flow": "../x", "data": "d.jsonl", "column_mapping": {"q": "${data.q}"},
                                 "variant": "${n.variant_1}"})) == []
    assert list(run.iter_errors({"data": "d.jsonl"}))


CONNECTION_TOOL = '''
from promptflow.connections import CustomConnection
from flowline import tool


@tool
def t(conn: CustomConnection, x: str = "") -> str:
    return x
'''


def test_each_unknown_connection_is_one_problem_where_it_is_written(tmp_path: Path) -> None:
    llm = "  type: llm\n  source: {type: code, path: p.jinja2}\n  api: chat\n  inputs: {deployment_name: m}\n"
    variant = ("      {id}:\n        node:\n          type: llm\n          source: {{type: code, path: p.jinja2}}\n"
               "          connection: variants_only\n          api: chat\n          inputs: {{deployment_name: m}}\n")
    flow = ("nodes:\n- name: ask\n" + llm + "  connection: nowhere\n"
            "- name: tool\n  type: python\n  source: {type: code, path: t.py}\n  inputs: {conn: vault}\n"
            "- name: varied\n  use_variants: true\nnode_variants:\n  varied:\n    default_variant_id: v0\n"
            "    variants:\n" + variant.format(id="v0") + variant.format(id="v1"))
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "t.py": CONNECTION_TOOL, "p.jinja2": "Hi.\n"})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    assert [(p["code"], p["line"], p["column"]) for p in problems] == [
        ("unknown-connection", *position(flow, "nowhere")), ("unknown-connection", *position(flow, "vault")),
        ("unknown-connection", *position(flow, "variants_only")),
        ("unknown-connection", *position(flow, "variants_only", 2))]


def test_llm_parameters_are_read_as_the_engine_reads_them(tmp_path: Path) -> None:
    # What the visual editor's inspector lets one type: a whole number that is not, a temperature out of range.
    flow = ("nodes:\n" + node("ask", "deployment_name: m; seed: abc; max_tokens: lots; temperature: 7; top_p: 0.5; "
                                     "stop: ${inputs.x}; q: hi", "  connection: c\n  api: chat\n", path="p.jinja2",
                              type_="llm"))
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": "user:\n{{ q }}\n"})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    found = [(p["code"], p["severity"], p["line"], p["message"].split(":")[0]) for p in problems
             if p["code"].startswith("llm-parameter")]
    assert found == [("llm-parameter-type", "error", 9, "'seed' of node 'ask' must be a whole number"),
                     ("llm-parameter-type", "error", 10, "'max_tokens' of node 'ask' must be a whole number"),
                     ("llm-parameter-range", "warning", 11, "'temperature' of node 'ask' is 7; the OpenAI API takes "
                                                            "from 0 to 2.")]


UTF8_FIX = "re-save it as UTF-8 (in VS Code: the encoding in the status bar, then 'Save with Encoding')."


@pytest.mark.parametrize("name,content,node_type,message", [
    # promptflow 1.18.5 (`pf flow test`, run by hand) fails such a template only when it loads the node:
    # "Tool load failed in 'n': (UnicodeDecodeError) 'utf-8' codec can't decode byte 0xe9 in position 3".
    ("p.jinja2", "caf\xe9 {{ x }}\n", "prompt",
     "Source file 'p.jinja2' of node 'n' is not valid UTF-8: byte 0xE9 at offset 3 (line 1, column 4); "),
    ("t.py", "from flowline import tool\n\n@tool\ndef t(x: str = '') -> str:\n    return x + 'caf\xe9'\n", "python",
     "Source file 't.py' of node 'n' is not valid UTF-8: byte 0xE9 at offset 79 (line 5, column 20); "),
    ("p.jinja2", "\u4e2d\u6587 {{ x }}\n", "prompt",  # GBK: two bytes a character
     "Source file 'p.jinja2' of node 'n' is not valid UTF-8: byte 0xD6 at offset 0 (line 1, column 1); "),
])
def test_a_source_file_that_is_not_utf8_is_said_so_at_its_path(tmp_path: Path, name: str, content: str,
                                                               node_type: str, message: str) -> None:
    flow = "nodes:\n" + node("n", "x: hi", path=name, type_=node_type)
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow})
    (folder / name).write_bytes(content.encode("gbk" if "\u4e2d" in content else "latin-1"))
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    assert [(p["code"], p["line"], p["column"], p["message"]) for p in problems] == [
        ("source-not-utf8", *position(flow, name), message + UTF8_FIX)]


def test_a_tool_file_python_can_read_is_not_refused_for_its_encoding(tmp_path: Path) -> None:
    # promptflow 1.18.5 runs a tool whose only latin-1 byte is in a comment (Python skips it), and one in
    # the encoding a PEP 263 `coding` comment names.
    flow = "nodes:\n" + node("n", "x: hi") + node("m", "x: hi", path="u.py")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow})
    (folder / "t.py").write_bytes(TOOL.replace("@tool", "# caf\xe9\n@tool").encode("latin-1"))
    (folder / "u.py").write_bytes(("# -*- coding: latin-1 -*-\n" + TOOL.replace('""', '"caf\xe9"')).encode("latin-1"))
    assert run_cli("flow", "validate", "--source", str(folder), "--json").json() == []


def test_a_flow_file_that_is_not_utf8_is_said_so_at_the_byte(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "flow", {})
    (folder / "flow.dag.yaml").write_bytes("nodes: []\n# r\xe9sum\xe9\n".encode("latin-1"))
    result = run_cli("flow", "validate", "--source", str(folder))
    assert result.code == 1
    assert result.stdout == (f"{folder / 'flow.dag.yaml'}:2:4: error: flow.dag.yaml is not valid UTF-8: byte 0xE9 "
                             f"at offset 13 (line 2, column 4); {UTF8_FIX} [flow-not-utf8]\n")


def test_an_unknown_llm_api_is_a_semantic_error_once_at_its_value(tmp_path: Path) -> None:
    flow = "nodes:\n" + node("ask", "deployment_name: m", "  connection: c\n  api: completion_1\n", path="p.jinja2",
                             type_="llm")
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": "Hi.\n"})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    assert [(p["code"], p["line"], p["column"], p["message"]) for p in problems
            if p["code"] != "unknown-connection"] == [
        ("llm-api", *position(flow, "completion_1"),
         "Unknown api 'completion_1' of node 'ask'. Did you mean 'completion'? The APIs are chat, completion.")]


@pytest.mark.parametrize("node_type,extra,template,reserved", [
    # promptflow 1.18.5 (`pf flow test`, run by hand): "Invalid inputs {'template'} in prompt template of node
    # n. These inputs are duplicated with the reserved parameters of prompt tool."
    ("prompt", "", "Say {{ x }} to {{ template }}.\n", ["template"]),
    # ... and for an LLM node with a chat API: "Invalid inputs {'temperature', 'prompt', 'connection', 'stop'}
    # in prompt template of node n. These inputs are duplicated with the parameters of OpenAI.chat."
    ("llm", "  connection: c\n  api: chat\n",
     "user:\n{{ x }} {{ prompt }} {{ temperature }} {{ connection }} {{ template }} {{ stop }}\n",
     ["connection", "prompt", "stop", "temperature"]),
    ("llm", "  connection: c\n  api: completion\n", "{{ x }} {{ suffix }} {{ seed }}\n", ["suffix"]),
])
def test_a_template_variable_the_tool_reserves_is_an_error_where_it_is_written(
        tmp_path: Path, node_type: str, extra: str, template: str, reserved: list[str]) -> None:
    inputs = "x: hi" + ("; deployment_name: m" if node_type == "llm" else "")
    flow = "nodes:\n" + node("n", inputs, extra, path="p.jinja2", type_=node_type)
    folder = write_flow(tmp_path / "flow", {"flow.dag.yaml": flow, "p.jinja2": template})
    problems = run_cli("flow", "validate", "--source", str(folder), "--json").json()
    found = [(p["file"], p["line"], p["column"], p["message"]) for p in problems if p["code"] == "template-reserved"]
    tool = "the prompt tool" if node_type == "prompt" else f"the LLM tool's {extra.split('api: ')[1].strip()} API"
    at = {name: position(template, "{{ " + name + " }}") for name in reserved}  # the name is 3 characters on
    assert found == sorted(
        (str(folder / "p.jinja2"), at[name][0], at[name][1] + 3, f"Template 'p.jinja2' of node 'n' uses "
         f"'{{{{ {name} }}}}', but '{name}' is a parameter of {tool}; rename the variable (and the node input that "
         "gives it).") for name in reserved)
