"""What a run of one node depends on, and which of the flow's problems stand in its way.

``flowline flow test --node X`` runs X alone: it needs X, the nodes X depends on (directly or not:
their outputs are its inputs, and a later run of the flow runs them) and the flow inputs they read
to be valid. A problem elsewhere (another node, an output, an input nobody there reads) does not
stop it. Problems outside every node, input, output and ``node_variants`` entry (broken YAML, a
wrong top-level key) concern the whole file and always count.
"""

from __future__ import annotations

from collections.abc import Iterator

from flowline.flow.model import Flow, Node
from flowline.flow.problems import Problem
from flowline.flow.spans import Span


def _definitions(flow: Flow, name: str) -> Iterator[Node]:
    """The node called ``name``, and each of its variants' definitions."""
    for node in flow.nodes:
        if node.name == name:
            yield node
    entry = flow.variants_of(name)
    if entry is not None:
        for variant in entry.variants:
            yield variant.node


def upstream(flow: Flow, name: str) -> frozenset[str]:
    """``name`` and every node it depends on, directly or not (through any of their variants)."""
    found: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        for node in _definitions(flow, current):
            stack.extend(d for d in node.dependencies if flow.node(d) is not None)
    return frozenset(found)


def _inside(span: Span, spans: list[Span]) -> bool:
    start = (span.start_line, span.start_col)
    return any((s.start_line, s.start_col) <= start < (s.end_line, s.end_col) for s in spans)


def problems_for_node(flow: Flow, problems: list[Problem], name: str) -> list[Problem]:
    """The problems that stop node ``name`` from running alone (all of them when it is not in the flow)."""
    if flow.node(name) is None:
        return problems
    names = upstream(flow, name)
    definitions = [d for n in sorted(names) for d in _definitions(flow, n)]
    read = {v.reference.name for d in definitions for v in d.references
            if v.reference is not None and v.reference.kind == "input"}
    kept = [n.span for n in flow.nodes if n.name in names] + \
        [v.span for v in flow.node_variants if v.node_name in names] + \
        [i.span for i in flow.inputs if i.name in read]
    elsewhere = [n.span for n in flow.nodes] + [v.span for v in flow.node_variants] + \
        [i.span for i in flow.inputs] + [o.span for o in flow.outputs]
    return [p for p in problems if p.file not in (None, flow.path) or _inside(p.span, kept)
            or not _inside(p.span, elsewhere)]
