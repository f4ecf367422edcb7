"""The visual editor's graph (``flowline/graph``) for LLM nodes: each node's connection and API, the
stored connections to choose from, and the model parameter table the inspector offers."""

from __future__ import annotations

from conftest import SAMPLES
from flowline.flow.build import load_flow_text
from flowline.flow.llm_parameters import PARAMETERS
from flowline.service.graph import graph


def test_llm_nodes_carry_connection_and_api_and_the_stored_connections_come_along() -> None:
    path = SAMPLES / "chat-basic" / "flow.dag.yaml"
    flow, _ = load_flow_text(path.read_text(), path)
    shape = graph(flow, connections=["local", "openai"])
    assert [(n["name"], n["connection"], n["api"]) for n in shape["nodes"]] == [("chat", "local", "chat")]
    assert shape["connections"] == ["local", "openai"]


def test_the_llm_parameter_table_comes_along_once() -> None:
    path = SAMPLES / "hello" / "flow.dag.yaml"
    flow, _ = load_flow_text(path.read_text(), path)
    shape = graph(flow)
    assert [(n["connection"], n["api"]) for n in shape["nodes"]] == [(None, None), (None, None)]
    assert shape["connections"] == []
    table = shape["llm_parameters"]
    assert [p["name"] for p in table] == [p.name for p in PARAMETERS]
    temperature = next(p for p in table if p["name"] == "temperature")
    assert temperature["type"] == "double" and "Sampling temperature" in temperature["description"]
    assert not temperature["completion_only"]
    assert next(p for p in table if p["name"] == "suffix")["completion_only"]
