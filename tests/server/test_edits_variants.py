"""flowline.editFlow's variant edits (addVariant, setDefaultVariant) and the edits it refuses because
they would break how the flow runs (a cycle, a node reading itself, a line node reading an aggregation
node), each with the sentence the visual editor shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from flowline.flow.build import load_flow_text
from flowline.flow.files import read_disk
from flowline.flow.validate import validate
from flowline.service.edits import EditError, apply_edit, new_files
from flowline.service.graph import graph
from flowline.service.yaml_edit import applied_text

CHAT = SAMPLES / "chat-basic" / "flow.dag.yaml"
HELLO = SAMPLES / "hello" / "flow.dag.yaml"
WEB = SAMPLES / "web-classification" / "flow.dag.yaml"


def applied(edit: dict, text: str, path: Path = Path("flow.dag.yaml")) -> str:
    flow, document = load_flow_text(text, path)
    return applied_text(text, apply_edit(flow, text, document.root, edit))


def shown(text: str, path: Path = Path("flow.dag.yaml")) -> dict[str, dict]:
    """The graph's nodes of ``text`` by name (the text must parse without a problem)."""
    flow, document = load_flow_text(text, path)
    assert document.problems == ()
    return {n["name"]: n for n in graph(flow, read=read_disk)["nodes"]}


def refusal(edit: dict, text: str) -> str:
    with pytest.raises(EditError) as caught:
        applied(edit, text)
    return str(caught.value)


# What addVariant makes of a plain llm node: its definition, as written, becomes variant_0 (the default)
# under node_variants; the new variant is a copy with its own template.
PLAIN = """\
inputs:
  question: {type: string}
outputs:
  answer: {type: string, reference: "${chat.output}"}
nodes:
- name: chat  # the one model call
  type: llm
  # the prompt
  source:
    type: code
    path: chat.jinja2
  inputs:
    deployment_name: smollm2
    question: ${inputs.question}  # from the user
  connection: local
  api: chat
"""

WITH_VARIANT = """\
inputs:
  question: {type: string}
outputs:
  answer: {type: string, reference: "${chat.output}"}
nodes:
- name: chat  # the one model call
  use_variants: true
node_variants:
  chat:
    default_variant_id: variant_0
    variants:
      variant_0:
        node:
          type: llm
          # the prompt
          source:
            type: code
            path: chat.jinja2
          inputs:
            deployment_name: smollm2
            question: ${inputs.question}  # from the user
          connection: local
          api: chat
      short:
        node:
          type: llm
          # the prompt
          source:
            type: code
            path: chat__short.jinja2
          inputs:
            deployment_name: smollm2
            question: ${inputs.question}  # from the user
          connection: local
          api: chat
"""


def test_add_variant_moves_a_plain_nodes_definition_under_node_variants() -> None:
    assert applied({"kind": "addVariant", "node": "chat", "variant": "short"}, PLAIN) == WITH_VARIANT
    node = shown(WITH_VARIANT)["chat"]
    assert [(v["id"], v["source"]) for v in node["variants"]] == [("variant_0", "chat.jinja2"),
                                                                  ("short", "chat__short.jinja2")]
    assert (node["type"], node["source"], node["default_variant_id"]) == ("llm", "chat.jinja2", "variant_0")


def test_add_variant_keeps_a_flow_style_node_in_flow_style() -> None:
    text = ("nodes:\n- {name: n, type: prompt, source: {type: code, path: n.jinja2}, inputs: {x: 1}}\n"
            "node_variants: {}\n")
    result = applied({"kind": "addVariant", "node": "n", "variant": "b"}, text)
    assert result.startswith("nodes:\n- {name: n, use_variants: true}\n")
    flow, document = load_flow_text(result, Path("flow.dag.yaml"))
    assert document.problems == ()
    [entry] = flow.node_variants
    assert [(v.id, v.node.source.path if v.node.source else None) for v in entry.variants] == [
        ("variant_0", "n.jinja2"), ("b", "n__b.jinja2")]


def test_add_variant_to_a_node_with_variants_copies_the_default_one() -> None:
    text = WEB.read_text()
    result = applied({"kind": "addVariant", "node": "summarize_text_content", "variant": "terse"}, text)
    assert result.startswith(text.rstrip("\n"))  # appended after the last variant, the rest as it was
    node = shown(result, WEB)["summarize_text_content"]
    assert [v["id"] for v in node["variants"]] == ["variant_0", "variant_1", "terse"]
    terse = node["variants"][2]
    assert (terse["source"], terse["inputs"]["max_tokens"]) == ("summarize_text_content__terse.jinja2", 96)


def test_add_variant_creates_the_template_from_the_default_ones(tmp_path: Path) -> None:
    folder = tmp_path / "flow"
    folder.mkdir()
    for name in ("flow.dag.yaml", "chat.jinja2"):
        (folder / name).write_text((CHAT.parent / name).read_text())
    edit = {"kind": "addVariant", "node": "chat", "variant": "formal"}
    text = (folder / "flow.dag.yaml").read_text()
    flow, _ = load_flow_text(text, folder / "flow.dag.yaml")
    assert new_files(flow, edit, read_disk) == [(folder / "chat__formal.jinja2", (folder / "chat.jinja2").read_text())]
    result = applied(edit, text, folder / "flow.dag.yaml")
    (folder / "chat__formal.jinja2").write_text((folder / "chat.jinja2").read_text())
    after, _ = load_flow_text(result, folder / "flow.dag.yaml")
    assert [p.message for p in validate(after, read_disk, frozenset({"local"})) if p.severity.value == "error"] == []
    # An existing file is used as it is, never overwritten.
    assert new_files(flow, edit, read_disk) == []


def test_set_default_variant() -> None:
    result = applied({"kind": "setDefaultVariant", "node": "chat", "variant": "short"}, WITH_VARIANT)
    assert result == WITH_VARIANT.replace("default_variant_id: variant_0", "default_variant_id: short")
    node = shown(result)["chat"]
    assert (node["default_variant_id"], node["source"]) == ("short", "chat__short.jinja2")


def test_edits_of_a_use_variants_nodes_inputs_land_in_its_default_variant() -> None:
    text = WEB.read_text()
    result = applied({"kind": "connect", "from": "prepare_examples", "to": "summarize_text_content",
                      "input": "examples"}, text)
    flow, _ = load_flow_text(result, WEB)
    entry = flow.variants_of("summarize_text_content")
    assert entry is not None
    assert [sorted(i.name for i in v.node.inputs) for v in entry.variants] == [
        ["deployment_name", "examples", "max_tokens", "temperature", "text"],
        ["deployment_name", "max_tokens", "temperature", "text"]]
    edges = graph(flow, read=read_disk)["edges"]
    assert {"source": "prepare_examples", "target": "summarize_text_content", "port": "examples",
            "path": "", "activate": False} in edges
    result = applied({"kind": "setNodeField", "node": "summarize_text_content", "field": "api",
                      "value": "completion"}, text)
    assert shown(result, WEB)["summarize_text_content"]["api"] == "completion"


@pytest.mark.parametrize("edit,text,message", [
    ({"kind": "addVariant", "node": "convert_to_dict", "variant": "b"}, WEB.read_text(),
     "Node 'convert_to_dict' is a python node; only llm and prompt nodes can have variants."),
    ({"kind": "addVariant", "node": "s", "variant": "b"},
     "nodes:\n- name: s\n  type: llm\n  source: {type: package, tool: acme.search}\n",
     "Node 's' uses package tool 'acme.search'; only llm and prompt nodes with a template file can have variants."),
    ({"kind": "addVariant", "node": "summarize_text_content", "variant": "variant_1"}, WEB.read_text(),
     "Node 'summarize_text_content' already has a variant 'variant_1'."),
    ({"kind": "addVariant", "node": "chat", "variant": "variant_0"}, PLAIN,
     "Node 'chat' already has a variant 'variant_0' (its present definition becomes it)."),
    ({"kind": "addVariant", "node": "chat", "variant": "short one"}, PLAIN,
     "'short one' is not a valid variant id: use letters, digits and '_' only."),
    ({"kind": "addVariant", "node": "nope", "variant": "b"}, PLAIN, "The flow has no node 'nope'."),
    ({"kind": "setDefaultVariant", "node": "chat", "variant": "long"}, WITH_VARIANT,
     "Node 'chat' has no variant 'long'; its variants are variant_0, short."),
    ({"kind": "setDefaultVariant", "node": "chat", "variant": "long"}, PLAIN,
     "Node 'chat' has no variants; add one with addVariant first."),
])
def test_variant_edits_refused(edit: dict, text: str, message: str) -> None:
    assert refusal(edit, text) == message


AGGREGATE = HELLO.read_text() + """\
- name: total
  type: python
  source: {type: code, path: total.py}
  inputs: {texts: "${inputs.name}"}
  aggregation: true
"""


@pytest.mark.parametrize("edit,text,message", [
    ({"kind": "connect", "from": "shout", "to": "greet", "input": "x"}, HELLO.read_text(),
     "That would make a cycle: shout → greet → shout; a node cannot wait for its own output."),
    ({"kind": "connect", "from": "total", "to": "greet", "input": "x"}, AGGREGATE,
     "Node 'greet' runs once per line; it cannot read aggregation node 'total', which runs once for the whole run."),
    ({"kind": "connect", "from": "greet", "to": "greet", "input": "x"}, HELLO.read_text(),
     "Node 'greet' cannot read its own output."),
    ({"kind": "setInput", "node": "greet", "input": "x", "value": "${shout.output.text}"}, HELLO.read_text(),
     "That would make a cycle: shout → greet → shout; a node cannot wait for its own output."),
    ({"kind": "setNodeField", "node": "greet", "field": "activate", "value": {"when": "${shout.output}", "is": True}},
     HELLO.read_text(), "That would make a cycle: shout → greet → shout; a node cannot wait for its own output."),
    ({"kind": "setNodeField", "node": "greet", "field": "aggregation", "value": True}, HELLO.read_text(),
     "Node 'shout' runs once per line; it cannot read aggregation node 'greet', which runs once for the whole run."),
    ({"kind": "setNodeField", "node": "total", "field": "activate", "value": {"when": "${greet.output}", "is": 1}},
     AGGREGATE, "The activate condition of aggregation node 'total' references non-aggregation node 'greet'; "
                "it may only use flow inputs or aggregation nodes."),
    ({"kind": "connect", "from": "classify_with_llm", "to": "summarize_text_content", "input": "x"}, WEB.read_text(),
     "That would make a cycle: classify_with_llm → summarize_text_content → classify_with_llm; a node cannot wait "
     "for its own output."),
])
def test_edits_that_break_the_run_are_refused(edit: dict, text: str, message: str) -> None:
    assert refusal(edit, text) == message


def test_a_longer_cycle_is_named_in_the_order_data_flows() -> None:
    text = HELLO.read_text() + "- name: last\n  type: python\n  source: {type: code, path: l.py}\n" \
                               "  inputs: {x: \"${shout.output}\"}\n"
    assert refusal({"kind": "connect", "from": "last", "to": "greet", "input": "y"}, text) == (
        "That would make a cycle: last → greet → shout → last; a node cannot wait for its own output.")


def test_aggregation_and_activate_round_trip() -> None:
    text = "# hello\n" + AGGREGATE
    # An aggregation node may read line nodes, and a line node's condition may use another line node.
    text = applied({"kind": "connect", "from": "greet", "to": "total", "input": "first"}, text)
    text = applied({"kind": "setNodeField", "node": "shout", "field": "activate",
                    "value": {"when": "${greet.output}", "is": "yes"}}, text)
    text = applied({"kind": "setNodeField", "node": "greet", "field": "aggregation", "value": None}, text)
    nodes = shown(text)
    assert nodes["shout"]["activate"] == {"when": "${greet.output}", "is": "yes"}
    assert (nodes["total"]["aggregation"], nodes["total"]["inputs"]["first"]) == (True, "${greet.output}")
    text = applied({"kind": "setNodeField", "node": "total", "field": "aggregation", "value": None}, text)
    text = applied({"kind": "setNodeField", "node": "shout", "field": "activate", "value": None}, text)
    nodes = shown(text)
    assert (nodes["total"]["aggregation"], nodes["shout"]["activate"]) == (False, None)
    assert text.startswith("# hello\n")
    text = applied({"kind": "setNodeField", "node": "total", "field": "aggregation", "value": True}, text)
    assert shown(text)["total"]["aggregation"] is True


def test_a_problem_the_flow_already_has_does_not_block_other_edits() -> None:
    broken = HELLO.read_text().replace("name: ${inputs.name}", "name: ${shout.output}")  # a cycle already
    result = applied({"kind": "setInput", "node": "shout", "input": "again", "value": "${greet.output}"}, broken)
    assert "again: ${greet.output}" in result
