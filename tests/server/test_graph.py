"""`service/graph.py`: what the graph tells the extension about variants and input defaults."""

from __future__ import annotations

from pathlib import Path

from flowline.flow.build import load_flow_text
from flowline.service.graph import graph

FLOW = """\
inputs:
  name:
    type: string
    default: World
  topic:
    type: string
outputs:
  message:
    type: string
    reference: ${compose.output}
nodes:
- name: tidy
  type: python
  source: {type: code, path: tidy.py}
  inputs: {text: "${inputs.name}"}
- name: compose
  use_variants: true
node_variants:
  compose:
    default_variant_id: plain
    variants:
      plain:
        node: {type: python, source: {type: code, path: compose.py}, inputs: {name: "${tidy.output}"}}
      formal:
        node: {type: python, source: {type: code, path: compose.py}, inputs: {name: "${tidy.output}"}}
"""


def _graph() -> dict[str, object]:
    flow, _ = load_flow_text(FLOW, Path("flow.dag.yaml"))
    return graph(flow, read=lambda path: None)


def test_a_use_variants_node_lists_its_variant_ids_and_default() -> None:
    nodes = {n["name"]: n for n in _graph()["nodes"]}  # type: ignore[attr-defined]
    assert (nodes["compose"]["variant_ids"], nodes["compose"]["default_variant_id"]) == (["plain", "formal"], "plain")
    assert (nodes["tidy"]["variant_ids"], nodes["tidy"]["default_variant_id"]) == ([], None)


def test_inputs_carry_their_default_or_null() -> None:
    inputs = {i["name"]: i["default"] for i in _graph()["inputs"]}  # type: ignore[attr-defined]
    assert inputs == {"name": "World", "topic": None}


def test_the_graph_lists_package_tools_and_a_package_nodes_inputs() -> None:
    from flowline.flow.package_tools import Catalog, parse_tool

    catalog = Catalog((parse_tool("acme_tools.shout", {"name": "Shout", "type": "python", "description": "Loud.",
                                                       "inputs": {"text": {"type": ["string"]},
                                                                  "times": {"type": ["int"], "default": 2}}}),))
    text = ("nodes:\n- name: s\n  type: python\n  source: {type: package, tool: acme_tools.shout}\n"
            "  inputs: {text: hi}\n")
    flow, _ = load_flow_text(text, Path("flow.dag.yaml"))
    shown = graph(flow, read=lambda path: None, tools=lambda: catalog)
    assert shown["package_tools"] == [{"id": "acme_tools.shout", "name": "Shout", "type": "python",
                                       "description": "Loud."}]
    [node] = shown["nodes"]  # type: ignore[misc]
    assert node["tool"] == "acme_tools.shout"
    assert [(p["name"], p["default"], p["required"]) for p in node["parameters"]] == [
        ("text", None, True), ("times", "2", False)]


CHAT = """\
inputs:
  question: {type: string, is_chat_input: true}
  chat_history: {type: list, default: []}
  tone: {type: string, default: kind}
outputs:
  answer: {type: string, reference: "${reply.output}", is_chat_output: true}
  length: {type: int, reference: "${reply.output.size}"}
nodes:
- name: reply
  type: python
  source: {type: code, path: reply.py}
  inputs: {text: "${inputs.question}"}
"""


def test_a_chat_flow_tells_its_roles_and_the_node_whose_tokens_are_the_answer() -> None:
    flow, _ = load_flow_text(CHAT, Path("flow.dag.yaml"))
    chat = graph(flow)["chat"]
    # `chat_history` by its name alone, as promptflow 1.18.5 takes it when no input is marked is_chat_history.
    assert chat == {"input": "question", "history": "chat_history", "output": "answer", "stream_node": "reply",
                    "accepts_images": False, "refusal": None}
    images, _ = load_flow_text(CHAT.replace("question: {type: string", "question: {type: list"), Path("f.dag.yaml"))
    assert graph(images)["chat"]["accepts_images"] is True


def test_a_flow_that_cannot_chat_says_why() -> None:
    cases = {
        "question: {type: string, is_chat_input: true}": "no input marked 'is_chat_input: true'",
        "chat_history: {type: list, default: []}": "no chat-history input",
        "answer: {type: string, reference: \"${reply.output}\", is_chat_output: true}":
            "no output is marked 'is_chat_output: true'",
    }
    for line, said in cases.items():
        text = CHAT.replace(line, line.replace("is_chat_input: true", "default: x")
                            .replace("chat_history:", "history:").replace(", is_chat_output: true", ""))
        flow, _ = load_flow_text(text, Path("flow.dag.yaml"))
        chat = graph(flow)["chat"]
        assert chat["input"] is None and said in chat["refusal"], (line, chat)


def test_a_use_variants_node_shows_its_default_variant_and_lists_every_variant() -> None:
    from conftest import SAMPLES

    path = SAMPLES / "web-classification" / "flow.dag.yaml"
    flow, _ = load_flow_text(path.read_text(), path)
    shape = graph(flow)
    node = next(n for n in shape["nodes"] if n["name"] == "summarize_text_content")
    assert (node["type"], node["source"], node["connection"], node["api"]) == (
        "llm", "summarize_text_content.jinja2", "local", "chat")
    assert node["inputs"]["max_tokens"] == 96 and [p["name"] for p in node["parameters"]] == ["text"]
    assert [(v["id"], v["type"], v["source"], v["inputs"]["max_tokens"]) for v in node["variants"]] == [
        ("variant_0", "llm", "summarize_text_content.jinja2", 96),
        ("variant_1", "llm", "summarize_text_content__variant_1.jinja2", 48)]
    lines = path.read_text().splitlines()
    assert node["variants"][1]["span"]["start_line"] == lines.index("      variant_1:") + 2  # its `node:` mapping
    assert {(e["source"], e["target"]) for e in shape["edges"]} >= {
        ("fetch_text_content_from_url", "summarize_text_content"), ("summarize_text_content", "classify_with_llm")}
    assert all(n["variants"] == [] for n in shape["nodes"] if n["name"] != "summarize_text_content")


def test_each_node_and_variant_tells_the_line_its_source_opens_at() -> None:
    from conftest import SAMPLES

    folder = SAMPLES / "web-classification"
    path = folder / "flow.dag.yaml"
    flow, _ = load_flow_text(path.read_text(), path)
    nodes = {n["name"]: n for n in graph(flow)["nodes"]}
    for name in ("fetch_text_content_from_url", "prepare_examples", "convert_to_dict"):
        lines = (folder / f"{name}.py").read_text().splitlines()
        line = nodes[name]["source_line"]
        assert line == lines.index("@tool") + 1 and lines[line].startswith(f"def {name}("), (name, line)
    assert nodes["classify_with_llm"]["source_line"] == 0  # a template: its first line
    assert [v["source_line"] for v in nodes["summarize_text_content"]["variants"]] == [0, 0]


def test_an_activate_condition_edge_is_marked_apart_from_an_input_named_activate() -> None:
    text = """\
inputs:
  go: {type: bool}
outputs: {}
nodes:
- name: gate
  type: python
  source: {type: code, path: gate.py}
  inputs: {activate: "${inputs.go}"}
  activate: {when: "${inputs.go}", is: true}
"""
    flow, _ = load_flow_text(text, Path("flow.dag.yaml"))
    shape = graph(flow, lambda path: None)
    edges = [(e["source"], e["target"], e["port"], e["activate"]) for e in shape["edges"]]  # type: ignore[index, union-attr]
    assert edges == [("inputs.go", "gate", "activate", False), ("inputs.go", "gate", "activate", True)]
