"""Every edit of the visual editor (flowline.editFlow) and every quick fix, applied to random valid
flows written in random styles (random_flows.py): the result parses, with PyYAML and with Flowline's
parser, holds exactly the intended change, keeps every comment but those inside what was removed,
keeps the file's line ends and brings in no tab. An edit is refused exactly when its result would
have a cycle, a self-reference or an aggregation problem the flow did not have, or when it adds a
variant to a node that cannot have one."""

from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from flowline.flow.build import load_flow_text
from flowline.flow.model import Flow
from flowline.flow.parse import parse, to_python
from flowline.flow.spans import Span
from flowline.flow.validate import validate
from flowline.service.edit_rules import GUARDED
from flowline.service.edits import EditError, apply_edit, new_node
from flowline.service.fixes import actions_for
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from random_flows import LITERALS, NODE_NAMES, RandomFlow, random_flows

FLOW = Path("/flows/random/flow.dag.yaml")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
VALUES = st.one_of(
    st.sampled_from(LITERALS), st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.booleans(),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3))
NEW_KEYS = ["top_p", "new_input", "a b", "x-y", "1", "true", "é", "with: colon", "#"]
NEW_NAMES = ["renamed", "123", "new-name", "a_b", "1e3", "true"]
FIELDS = ["connection", "api", "description", "aggregation", "provider", "type"]


def applied(text: str, edits: list[tuple[Span, str]]) -> str:
    """``text`` after the edits, which must lie inside it and must not overlap (as LSP asks)."""
    lines = text.split("\n")
    ordered = sorted(edits, key=lambda e: e[0])
    for span, _ in ordered:
        for line, col in ((span.start_line, span.start_col), (span.end_line, span.end_col)):
            assert line < len(lines) and col <= len(lines[line]) - lines[line].endswith("\r"), (span, text)
    for (before, _), (after, _) in zip(ordered, ordered[1:], strict=False):
        assert (before.end_line, before.end_col) <= (after.start_line, after.start_col), ordered
        assert before != after or before.start_line != before.end_line or before.start_col != before.end_col

    def offset(line: int, col: int) -> int:
        return sum(len(x) + 1 for x in lines[:line]) + col

    out = text
    for span, new in reversed(ordered):
        out = out[:offset(span.start_line, span.start_col)] + new + out[offset(span.end_line, span.end_col):]
    return out


def check(flow: RandomFlow, result: str, expected: dict[str, Any], removed: set[Any], what: object) -> None:
    context = f"{what}\n--- before:\n{flow.text}\n--- after:\n{result}"
    assert "\t" not in result, context
    assert result.count("\n") == result.count("\r\n") if flow.eol == "\r\n" else "\r" not in result, context
    assert yaml.load(result, Loader=_Loader) == expected, context
    document = parse(result)
    assert document.problems == (), context
    assert to_python(document.root) == expected, context
    lost = [c for c, owners in flow.comments if not owners & removed and c not in result]
    assert not lost, f"lost {lost}: {context}"


def _guarded(flow: Flow) -> Counter[tuple[str, str]]:
    return Counter((p.code, p.message) for p in validate(flow, lambda path: None, frozenset()) if p.code in GUARDED)


def breaks(before: Flow, expected: dict[str, Any]) -> bool:
    """True when the flow ``expected`` has a cycle, self-reference or aggregation problem ``before`` has not."""
    after, document = load_flow_text(yaml.safe_dump(expected, allow_unicode=True, sort_keys=False), FLOW)
    assert document.problems == ()
    return bool(_guarded(after) - _guarded(before))


def _with_variant(data: dict[str, Any], node: str, variant: str) -> dict[str, Any] | None:
    """``data`` after ``addVariant`` of ``variant`` to ``node`` (a node without variants); ``None`` when the
    node is not an llm or prompt node, which the edit refuses."""
    expected = copy.deepcopy(data)
    index = [n["name"] for n in expected["nodes"]].index(node)
    definition = {k: v for k, v in expected["nodes"][index].items() if k != "name"}
    if definition.get("type") not in ("llm", "prompt"):
        return None
    expected["nodes"][index] = {"name": node, "use_variants": True}
    added = copy.deepcopy(definition)
    added["source"]["path"] = f"{node}__{variant}.jinja2"
    expected["node_variants"] = {node: {"default_variant_id": "variant_0",
                                        "variants": {"variant_0": {"node": definition}, variant: {"node": added}}}}
    return expected


def _node(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["name"] == name)


def _set_input(data: dict[str, Any], node: str, key: str, value: Any) -> dict[str, Any]:
    expected = copy.deepcopy(data)
    target = _node(expected, node)
    target["inputs"] = {**(target.get("inputs") or {}), key: value}
    return expected


def _renamed(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    expected = copy.deepcopy(data)
    _node(expected, old)["name"] = new
    holders = [n["inputs"] for n in expected["nodes"] if n.get("inputs")]
    holders += list((expected.get("outputs") or {}).values())
    for holder in holders:
        for key, value in holder.items():
            if value == f"${{{old}.output}}":
                holder[key] = f"${{{new}.output}}"
    return expected


Case = tuple[dict[str, Any], tuple[str, ...], dict[str, Any] | None, set[Any]]


def edits(flow: RandomFlow, draw: st.DataObject) -> list[Case]:
    """One edit of each kind (with random arguments): the edit, the stored connections, the data
    it should give (``None``: the edit is refused whatever the flow's references), and the owners of
    comments it may remove."""
    data = flow.data
    names = [n["name"] for n in data.get("nodes") or []]
    connections = draw.draw(st.sampled_from([(), ("local",), ("b", "local")]))
    kind = draw.draw(st.sampled_from(["python", "prompt", "llm"]))
    name = draw.draw(st.sampled_from([n for n in NODE_NAMES + ["added.node"] if n not in names]))
    added = copy.deepcopy(data)
    added.setdefault("nodes", []).append(new_node(load_flow_text(flow.text, FLOW)[0], name, kind, None, connections))
    result = [({"kind": "addNode", "name": name, "type": kind}, connections, added, set())]
    if not names:
        return result
    node = draw.draw(st.sampled_from(names))
    index = names.index(node)
    removed = copy.deepcopy(data)
    removed["nodes"].pop(index)
    result.append(({"kind": "removeNode", "name": node}, (), removed, {("node", node)}))
    new_name = draw.draw(st.sampled_from(NEW_NAMES))
    result.append(({"kind": "renameNode", "name": node, "newName": new_name}, (), _renamed(data, node, new_name),
                   set()))
    inputs = _node(data, node).get("inputs") or {}
    key = draw.draw(st.sampled_from(sorted(inputs) + NEW_KEYS))
    value = draw.draw(VALUES)
    result.append(({"kind": "setInput", "node": node, "input": key, "value": value}, (),
                   _set_input(data, node, key, value), set()))
    source = draw.draw(st.sampled_from(names))
    result.append(({"kind": "connect", "from": source, "to": node, "input": key}, (),
                   _set_input(data, node, key, f"${{{source}.output}}"), set()))
    if inputs:
        cleared = draw.draw(st.sampled_from(sorted(inputs)))
        expected = copy.deepcopy(data)
        del _node(expected, node)["inputs"][cleared]
        result.append(({"kind": "clearInput", "node": node, "input": cleared}, (), expected,
                       {("input", node, cleared)}))
    variant = draw.draw(st.sampled_from(["variant_1", "short", "v2_long"]))
    result.append(({"kind": "addVariant", "node": node, "variant": variant}, (), _with_variant(data, node, variant),
                   set()))
    field = draw.draw(st.sampled_from(FIELDS))
    field_value = draw.draw(st.one_of(st.none(), st.sampled_from(["chat", "completion", "local", "Line\nbreak\n"]),
                                      st.text(max_size=8), st.booleans()))
    expected = copy.deepcopy(data)
    if field_value is None:
        _node(expected, node).pop(field, None)
    else:
        _node(expected, node)[field] = field_value
    result.append(({"kind": "setNodeField", "node": node, "field": field, "value": field_value}, (), expected,
                   {("field", node, field)} if field_value is None else set()))
    return result


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def fixed(flow: RandomFlow, title: str) -> list[dict[str, Any]]:
    """The data a quick fix titled ``title`` may give (a changed name may mend any of the defects)."""
    expected = copy.deepcopy(flow.data)
    if match := re.fullmatch(r"Add flow input '(.+)'", title):
        expected["inputs"] = {**(expected.get("inputs") or {}), match[1]: {"type": "string"}}
        return [expected]
    if match := re.fullmatch(r"Add input '(.+)' to node '(.+)'", title):
        return [_set_input(flow.data, match[2], match[1], None)]
    match = re.fullmatch(r"Change to '(.+)'", title)
    assert match, f"a quick fix the test does not know: {title}"
    candidates = []
    for defect in flow.defects:
        candidate = copy.deepcopy(flow.data)
        holder = _at(candidate, defect.path[:-1])
        if defect.kind == "key":
            holder = holder[defect.path[-1]]
            holder[match[1]] = holder.pop(defect.typo)
        else:
            holder[defect.path[-1]] = holder[defect.path[-1]].replace(defect.typo, match[1], 1)
        candidates.append(candidate)
    return candidates


@settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(flow=random_flows(), draw=st.data())
def test_every_edit_and_quick_fix_keeps_the_flow_whole(flow: RandomFlow, draw: st.DataObject) -> None:
    model, document = load_flow_text(flow.text, FLOW)
    assert document.problems == () and to_python(document.root) == flow.data, flow.text
    for edit, connections, expected, removed in edits(flow, draw):
        if expected is None or breaks(model, expected):
            event(f"edit {edit['kind']} refused")
            try:
                apply_edit(model, flow.text, document.root, edit, connections)
            except EditError:
                continue
            raise AssertionError(f"{edit} was not refused:\n{flow.text}")
        event(f"edit {edit['kind']}")
        check(flow, applied(flow.text, apply_edit(model, flow.text, document.root, edit, connections)), expected,
              removed, edit)
    files = {FLOW.parent / name: text for name, text in flow.files.items()}
    for problem in validate(model, files.get, frozenset({"local"})):
        for action in actions_for(model, document, problem):
            event(f"quick fix {action.title.split(' ')[0]} {problem.code}")
            result = applied(flow.text, [(e.span, e.new_text) for e in action.edits if e.path == FLOW])
            candidates = fixed(flow, action.title)
            assert result and any(parse(result).problems == () and yaml.load(result, Loader=_Loader) == c
                                  for c in candidates), f"{action.title}\n{flow.text}\n---\n{result}"
            check(flow, result, next(c for c in candidates if yaml.load(result, Loader=_Loader) == c), set(),
                  action.title)
