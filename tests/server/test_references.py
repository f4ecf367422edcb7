"""The `${...}` grammar, as promptflow parses it."""

from __future__ import annotations

import pytest
from flowline.flow.references import Key, PropertyError, parse_reference, walk


@pytest.mark.parametrize("text,kind,name,section,path", [
    ("${inputs.question}", "input", "question", "", ""),
    ("${flow.question}", "input", "question", "", ""),
    ("${inputs.a.b}", "input", "a.b", "", ""),
    ("${node}", "node", "node", "output", ""),
    ("${node.output}", "node", "node", "output", ""),
    ("${node.output.a.b}", "node", "node", "output", "a.b"),
    ("${node.output[0]}", "node", "node", "output[0]", ""),
    ("${node.output.[0]}", "node", "node", "output", "[0]"),
])
def test_references(text: str, kind: str, name: str, section: str, path: str) -> None:
    ref = parse_reference(text)
    assert ref is not None
    assert (ref.kind, ref.name, ref.section, ref.path) == (kind, name, section, path)


@pytest.mark.parametrize("text", ["plain", "a ${inputs.x}", "${inputs.x} b", "$x", 5, None, " ${inputs.x}"])
def test_only_whole_strings_are_references(text: object) -> None:
    assert parse_reference(text) is None


def test_property_steps() -> None:
    ref = parse_reference("${n.output.items[2]['the key'].name}")
    assert ref is not None
    assert ref.steps == ("items", 2, "the key", "name")
    assert isinstance(ref.steps[2], Key)


def test_walk_dicts_lists_and_attributes() -> None:
    class Obj:
        name = "attr"

    value = {"items": [0, 1, {"the key": Obj()}]}
    ref = parse_reference("${n.output.items[2]['the key'].name}")
    assert ref is not None
    assert walk(value, ref.steps) == "attr"
    with pytest.raises(PropertyError):
        walk({"a": 1}, ("b",))
