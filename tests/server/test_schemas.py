"""The JSON Schemas contributed to editors: valid, every property described, every working flow,
run file and connection accepted, and the usual mistakes rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES
from flowline.flow.parse import parse, to_python
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CONFORMANCE = Path(__file__).resolve().parent / "conformance"


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return data


def load(path: Path) -> Any:
    """A YAML file as Flowline reads it (YAML 1.2: `2024-10-21` stays a string)."""
    return to_python(parse(path.read_text()).root)


def errors(name: str, instance: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft202012Validator(schema(name)).iter_errors(instance)]


def undescribed(node: Any, where: str = "") -> list[str]:
    """Paths of properties (and of property patterns) that have no description."""
    found = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                found.append(f"{where}.{key}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and "description" not in extra and "$ref" not in extra:
            found.append(f"{where}.*")
        for key, sub in node.items():
            if key in ("properties", "$defs"):
                for name, child in sub.items():
                    found += undescribed(child, f"{where}.{name}")
            elif isinstance(sub, (dict, list)):
                if key != "if":  # a condition names properties without defining them
                    found += undescribed(sub, where if key in ("items", "allOf", "anyOf", "oneOf", "then", "else",
                                                               "additionalProperties") else f"{where}.{key}")
    elif isinstance(node, list):
        for item in node:
            found += undescribed(item, where)
    return found


@pytest.mark.parametrize("name", ["flow", "run", "connection"])
def test_schema_is_valid_and_every_property_is_described(name: str) -> None:
    data = schema(name)
    Draft202012Validator.check_schema(data)
    assert data.get("description")
    assert undescribed(data) == []


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*/flow.dag.yaml")) + sorted(CONFORMANCE.glob("*/flow.dag.yaml")),
                         ids=lambda p: p.parent.name)
def test_every_working_flow_is_accepted(path: Path) -> None:
    assert errors("flow", load(path)) == []


@pytest.mark.parametrize("mistake,expected", [
    ({"nodes": [{"name": "a", "typ": "python"}]},
     "nodes.0: Additional properties are not allowed ('typ' was unexpected)"),
    ({"nodes": [{"name": "a", "type": "pyhton"}]}, "nodes.0.type: 'pyhton' is not one of"),
    ({"inputs": {"x": {"type": "str"}}}, "inputs.x.type: 'str' is not one of"),
    ({"outputs": {"y": {"refrence": "${a.output}"}}}, "outputs.y: Additional properties are not allowed"),
    ({"nodes": [{"type": "python"}]}, "nodes.0: 'name' is a required property"),
])
def test_usual_flow_mistakes_are_rejected(mistake: dict[str, Any], expected: str) -> None:
    found = errors("flow", mistake)
    assert any(e.startswith(expected) for e in found), found


def test_run_files_are_checked() -> None:
    run = {"flow": "../web-classification", "data": "data.jsonl", "run": "wc_v0", "name": "eval_v0",
           "column_mapping": {"groundtruth": "${data.answer}", "prediction": "${run.outputs.category}"},
           "variant": "${summarize_text_content.variant_1}", "environment_variables": {"A": "1"},
           "connections": {"classify_with_llm": {"connection": "local", "deployment_name": "smollm2"}},
           "tags": {"team": "x"}, "description": "d", "display_name": "D"}
    assert errors("run", run) == []
    assert errors("run", {"data": "x.jsonl"}) == [": 'flow' is a required property"]
    assert errors("run", {"flow": "f", "variant": "variant_1"})[0].startswith("variant: 'variant_1' does not match")
    assert errors("run", {"flow": "f", "colum_mapping": {}})[0].startswith(": Additional properties are not allowed")
    # run create refuses a value that is not text, as promptflow 1.18.5 does ("Not a valid string.").
    not_text = errors("run", {"flow": "f", "environment_variables": {"A": 1}})
    assert not_text[0].startswith("environment_variables.A: 1 is")


@pytest.mark.parametrize("path", sorted((SAMPLES / "connections").glob("*.yaml")), ids=lambda p: p.stem)
def test_sample_connections_are_accepted(path: Path) -> None:
    assert errors("connection", load(path)) == []


def test_connection_mistakes_are_rejected() -> None:
    assert errors("connection", {"name": "x", "type": "open_ai"}) == [": 'api_key' is a required property"]
    assert errors("connection", {"name": "x", "type": "azure_open_ai", "api_key": "k"}) == [
        ": 'api_base' is a required property"]
    assert errors("connection", {"name": "x y", "type": "custom"})[0].startswith("name: 'x y' does not match")
    assert errors("connection", {"name": "x", "type": "openai", "api_key": "k"})[0].startswith(
        "type: 'openai' is not one of")
