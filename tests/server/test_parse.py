"""The YAML layer: spans on every element, YAML 1.2 scalars, partial trees on broken input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from flowline.flow.build import load_flow_text
from flowline.flow.parse import YMap, YScalar, YSeq, parse, to_python
from flowline.flow.spans import Span


def test_every_scalar_keeps_its_span() -> None:
    doc = parse("a: 1\nlist:\n  - x: '${inputs.q}'\n")
    assert isinstance(doc.root, YMap)
    key = doc.root.key("list")
    assert key is not None and key.span == Span(1, 0, 1, 4)
    seq = doc.root.get("list")
    assert isinstance(seq, YSeq)
    item = seq.items[0]
    assert isinstance(item, YMap)
    value = item.get("x")
    assert isinstance(value, YScalar)
    assert value.value == "${inputs.q}" and value.quoted and value.span == Span(2, 7, 2, 20)


@pytest.mark.parametrize("text,expected", [
    ("on", "on"), ("yes", "yes"), ("No", "No"), ("true", True), ("False", False), ("~", None), ("null", None),
    ("010", 10), ("0x1F", 31), ("0o17", 15), ("1_000", "1_000"), ("1.5", 1.5), ("1e3", 1000.0), ("'5'", "5"),
    ("!!str 5", "5"), ("2024-01-02", "2024-01-02"),
])
def test_plain_scalars_follow_yaml_1_2(text: str, expected: object) -> None:
    assert to_python(parse(f"v: {text}\n").root) == {"v": expected}


def test_broken_yaml_keeps_what_came_before_the_error() -> None:
    doc = parse("inputs:\n  q: {type: string}\nnodes:\n- name: a\n   type: python\n")
    assert [p.code for p in doc.problems] == ["yaml-syntax"]
    assert doc.problems[0].span.start_line == 4
    data = to_python(doc.root)
    assert data["inputs"] == {"q": {"type": "string"}}
    assert data["nodes"][0]["name"].startswith("a")


def test_no_input_ever_raises() -> None:
    texts = [(SAMPLES / name / "flow.dag.yaml").read_text() for name in ("hello", "conditional")]
    for text in texts:
        for cut in range(0, len(text), 7):
            for variant in (text[:cut], text[:cut] + "\t: ${", text[cut:], text[:cut] + "]}" + text[cut:]):
                flow, doc = load_flow_text(variant, Path("flow.dag.yaml"))
                assert flow.path == Path("flow.dag.yaml")


def test_unknown_alias_is_a_problem_not_an_exception() -> None:
    doc = parse("a: *nowhere\n")
    assert doc.problems and doc.problems[0].code == "yaml-syntax"
