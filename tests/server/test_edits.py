"""flowline.editFlow's edits: each applied to the sample text gives a flow that parses and says what
was asked, and leaves the other lines (comments included) as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from flowline.flow.build import load_flow_text
from flowline.flow.edits import EditError, apply_edit

TEXT = "# greeting flow\n" + (SAMPLES / "hello" / "flow.dag.yaml").read_text()


def applied(edit: dict) -> str:
    flow, document = load_flow_text(TEXT, Path("flow.dag.yaml"))
    lines = TEXT.split("\n")

    def offset(line: int, col: int) -> int:
        return sum(len(x) + 1 for x in lines[:line]) + col

    out = TEXT
    for span, new in sorted(apply_edit(flow, TEXT, document.root, edit), key=lambda e: e[0], reverse=True):
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
