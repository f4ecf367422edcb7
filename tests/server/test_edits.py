"""flowline.editFlow's edits: each applied to the sample text gives a flow that parses and says what
was asked, and leaves the other lines (comments included) as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from flowline.flow.build import load_flow_text
from flowline.flow.files import read_disk
from flowline.flow.package_tools import Catalog, parse_tool
from flowline.flow.problems import Severity
from flowline.flow.validate import validate
from flowline.service.edits import EditError, apply_edit, new_files

TEXT = "# greeting flow\n" + (SAMPLES / "hello" / "flow.dag.yaml").read_text()


def applied(edit: dict, text: str = TEXT, connections: tuple[str, ...] = ()) -> str:
    flow, document = load_flow_text(text, Path("flow.dag.yaml"))
    lines = text.split("\n")

    def offset(line: int, col: int) -> int:
        return sum(len(x) + 1 for x in lines[:line]) + col

    out = text
    for span, new in sorted(apply_edit(flow, text, document.root, edit, connections), key=lambda e: e[0],
                            reverse=True):
        out = out[:offset(span.start_line, span.start_col)] + new + out[offset(span.end_line, span.end_col):]
    return out


def model(text: str) -> dict:
    flow, document = load_flow_text(text, Path("flow.dag.yaml"))
    assert document.problems == ()
    return {n.name: {i.name: i.value.value for i in n.inputs} for n in flow.nodes}


@pytest.mark.parametrize("edit,expected", [
    ({"kind": "addNode", "name": "extra"}, {"greet": {"name": "${inputs.name}"},
                                            "shout": {"text": "${greet.output}", "excited": "${inputs.excited}"},
                                            "extra": {}}),
    ({"kind": "removeNode", "name": "greet"}, {"shout": {"text": "${greet.output}", "excited": "${inputs.excited}"}}),
    ({"kind": "renameNode", "name": "greet", "newName": "hi"},
     {"hi": {"name": "${inputs.name}"}, "shout": {"text": "${hi.output}", "excited": "${inputs.excited}"}}),
    ({"kind": "setInput", "node": "shout", "input": "excited", "value": True},
     {"greet": {"name": "${inputs.name}"}, "shout": {"text": "${greet.output}", "excited": True}}),
    ({"kind": "setInput", "node": "greet", "input": "tone", "value": "warm and kind"},
     {"greet": {"name": "${inputs.name}", "tone": "warm and kind"},
      "shout": {"text": "${greet.output}", "excited": "${inputs.excited}"}}),
    ({"kind": "clearInput", "node": "shout", "input": "excited"},
     {"greet": {"name": "${inputs.name}"}, "shout": {"text": "${greet.output}"}}),
    ({"kind": "connect", "from": "greet", "to": "shout", "input": "extra"},
     {"greet": {"name": "${inputs.name}"},
      "shout": {"text": "${greet.output}", "excited": "${inputs.excited}", "extra": "${greet.output}"}}),
])
def test_edit(edit: dict, expected: dict) -> None:
    result = applied(edit)
    assert model(result) == expected
    assert result.startswith("# greeting flow\n")


@pytest.mark.parametrize("edit,message", [
    ({"kind": "removeNode", "name": "nope"}, "The flow has no node 'nope'."),
    ({"kind": "addNode", "name": "greet"}, "A node named 'greet' already exists."),
    ({"kind": "renameNode", "name": "greet", "newName": "shout"}, "A node named 'shout' already exists."),
    ({"kind": "clearInput", "node": "greet", "input": "x"}, "Node 'greet' has no input 'x'."),
    ({"kind": "fly"}, "Unknown edit kind 'fly'"),
    ({"kind": "setInput", "node": "greet"}, "Edit 'setInput' needs 'input'."),
])
def test_bad_edits_say_why(edit: dict, message: str) -> None:
    with pytest.raises(EditError, match=message.replace("(", r"\(").replace(")", r"\)")):
        applied(edit)


# The edit the visual editor's "Add node" sends for an llm node (tests/e2e/flowEditorPage.test.ts checks the page
# sends exactly this).
ADD_LLM = {"kind": "addNode", "name": "tidy", "type": "llm"}


def added_llm(sample: str, connections: tuple[str, ...], severity: Severity = Severity.ERROR) -> tuple[dict, list]:
    """The node ADD_LLM adds to ``sample`` with ``connections`` stored (as the flow reads it back), and the
    problems of ``severity`` (errors) the flow then has, its new template included."""
    folder = SAMPLES / sample
    text = applied(ADD_LLM, (folder / "flow.dag.yaml").read_text(), connections)
    flow, document = load_flow_text(text, folder / "flow.dag.yaml")
    assert document.problems == ()
    created = dict(new_files(flow, ADD_LLM, read_disk))
    assert list(created) == [folder / "tidy.jinja2"]  # a first version of the template
    assert created[folder / "tidy.jinja2"].startswith("# system:\n")
    node = flow.node("tidy")
    assert node is not None
    shape = {"connection": node.connection.value if node.connection else None, "api": node.api,
             "inputs": {i.name: i.value.value for i in node.inputs}}
    problems = validate(flow, lambda p: created.get(p) or read_disk(p), frozenset(connections))
    return shape, [p.code for p in problems if p.severity == severity]


def test_a_new_llm_node_is_complete() -> None:
    # The first stored connection (by name), the chat API, the model another node already asks of it,
    # the usual parameters: nothing left for validation to report.
    shape, errors = added_llm("chat-basic", ("openai", "local"))
    assert shape == {"connection": "local", "api": "chat",
                     "inputs": {"deployment_name": "smollm2", "temperature": 0.7, "max_tokens": 256}}
    assert errors == []


def test_a_new_llm_node_leaves_an_unknown_model_empty() -> None:
    # No node of the flow names a model for the connection: the key is there for the user to fill in,
    # and the one error says so at it (the inspector marks it required).
    shape, errors = added_llm("hello", ("azure", "openai"))
    assert (shape["connection"], shape["api"], shape["inputs"]["deployment_name"]) == ("azure", "chat", "")
    assert errors == ["llm-model-missing"]


def test_a_new_llm_node_without_stored_connections_asks_for_one() -> None:
    # Nothing to choose from: no connection key, one warning (the inspector says how to create a connection);
    # a connection may also be given at run time, so it is no error.
    shape, errors = added_llm("hello", ())
    assert (shape["connection"], shape["api"]) == (None, "chat")
    assert errors == []
    assert added_llm("hello", (), Severity.WARNING)[1] == ["llm-connection-missing"]


def test_the_inspectors_pickers_set_connection_and_api() -> None:
    # The edits tests/e2e/flowEditorPage.test.ts sees the pickers send, on a flow's llm node.
    text = (SAMPLES / "chat-basic" / "flow.dag.yaml").read_text()
    for edit in ({"kind": "setNodeField", "node": "chat", "field": "connection", "value": "azure"},
                 {"kind": "setNodeField", "node": "chat", "field": "api", "value": "completion"}):
        text = applied(edit, text)
    flow, document = load_flow_text(text, Path("flow.dag.yaml"))
    assert document.problems == ()
    node = flow.node("chat")
    assert node is not None and node.connection is not None
    assert (node.connection.value, node.api) == ("azure", "completion")


@pytest.mark.parametrize("kind", ["python", "prompt", "llm"])
def test_a_node_added_in_the_graph_is_valid_before_it_has_inputs(kind: str, tmp_path: Path) -> None:
    # Its tool takes no required parameter and its template names no variable, so adding it (a flow
    # with a stored connection) brings no problem of its own.
    folder = tmp_path / "flow"
    folder.mkdir()
    for name in ("flow.dag.yaml", "chat.jinja2"):
        (folder / name).write_text((SAMPLES / "chat-basic" / name).read_text())
    edit = {"kind": "addNode", "name": "added", "type": kind}
    text = applied(edit, (folder / "flow.dag.yaml").read_text(), ("local",))
    flow, _ = load_flow_text(text, folder / "flow.dag.yaml")
    for path, created in new_files(flow, edit, read_disk):
        path.write_text(created)
    (folder / "flow.dag.yaml").write_text(text)
    flow, _ = load_flow_text(text, folder / "flow.dag.yaml")
    problems = validate(flow, read_disk, frozenset({"local"}))
    assert [(p.code, p.message) for p in problems if p.subject == "added" or "added" in p.message] == []


def test_a_new_tool_file_imports_tool_as_the_flows_other_tools_do(tmp_path: Path) -> None:
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "old.py").write_text("from promptflow import tool\n\n\n@tool\ndef old(x: str) -> str:\n    return x\n")
    text = "nodes:\n- name: old\n  type: python\n  source: {type: code, path: old.py}\n  inputs: {x: a}\n"
    edit = {"kind": "addNode", "name": "new", "type": "python"}
    flow, _ = load_flow_text(applied(edit, text), folder / "flow.dag.yaml")
    [(path, created)] = new_files(flow, edit, read_disk)
    assert (path.name, created.splitlines()[0]) == ("new.py", "from promptflow.core import tool")
    (folder / "old.py").write_text("from flowline import tool\n\n\n@tool\ndef old(x: str) -> str:\n    return x\n")
    [(path, created)] = new_files(flow, edit, read_disk)
    assert created.splitlines()[0] == "from flowline import tool"


SEARCH = Catalog((parse_tool("acme_tools.search.Search.run", {
    "name": "Acme search", "type": "python", "module": "acme_tools.search", "class_name": "Search",
    "function": "run", "inputs": {"connection": {"type": ["CustomConnection"]}, "query": {"type": ["string"]},
                                  "limit": {"type": ["int"], "default": 5}}}),))


def test_a_package_tool_added_in_the_graph_lists_its_inputs_and_needs_no_file(tmp_path: Path) -> None:
    text = (SAMPLES / "hello" / "flow.dag.yaml").read_text()
    edit = {"kind": "addNode", "name": "find", "type": "python", "tool": "acme_tools.search.Search.run"}
    flow, document = load_flow_text(text, tmp_path / "flow.dag.yaml")
    out = text
    for span, new in sorted(apply_edit(flow, text, document.root, edit, (), lambda: SEARCH), key=lambda e: e[0],
                            reverse=True):
        lines = out.split("\n")
        start = sum(len(x) + 1 for x in lines[:span.start_line]) + span.start_col
        end = sum(len(x) + 1 for x in lines[:span.end_line]) + span.end_col
        out = out[:start] + new + out[end:]
    flow, document = load_flow_text(out, tmp_path / "flow.dag.yaml")
    node = flow.node("find")
    assert node is not None and node.source is not None
    assert (node.type, node.source.type, node.source.tool) == ("python", "package", "acme_tools.search.Search.run")
    assert {i.name: i.value.value for i in node.inputs} == {"limit": 5}
    assert new_files(flow, edit, read_disk) == []
    problems = validate(flow, lambda path: None, frozenset(), lambda: SEARCH)
    assert sorted(p.message for p in problems if "find" in p.message) == [
        "Node 'find' does not set required input 'connection' of tool 'run'.",
        "Node 'find' does not set required input 'query' of tool 'run'."]


def test_adding_a_package_tool_that_is_not_installed_says_how_to_list_them() -> None:
    edit = {"kind": "addNode", "name": "find", "type": "python", "tool": "acme_tools.serch"}
    flow, document = load_flow_text(TEXT, Path("flow.dag.yaml"))
    with pytest.raises(EditError, match="No installed package offers the tool 'acme_tools.serch'; `flowline tool"):
        apply_edit(flow, TEXT, document.root, edit, (), lambda: SEARCH)
