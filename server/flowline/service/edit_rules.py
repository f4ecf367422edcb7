"""Refusing an edit that would break how the flow runs: a reference to the node itself, a dependency
cycle, a line node reading an aggregation node, an aggregation node's condition on a line node.

The rules are validation's own (``flow/validate.py``): the edited text is parsed and validated, and the
edit is refused when it brings one of those problems that the flow did not have; this module only says
it in the words of the graph (``a → b → a``)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from flowline.flow.build import load_flow_text
from flowline.flow.checks import all_nodes
from flowline.flow.model import Flow, Value
from flowline.flow.package_tools import Catalog
from flowline.flow.problems import Problem
from flowline.flow.validate import validate
from flowline.flow.variants import apply_variants
from flowline.service.yaml_edit import EditError, TextEdits, applied_text

log = logging.getLogger(__name__)
GUARDED = ("self-reference", "cycle", "aggregation-reference", "aggregation-activate")
"""The problem codes an edit may not bring (validation's codes)."""


def _problems(flow: Flow) -> list[Problem]:
    # Only the flow's structure matters here: no file is read and no package is imported.
    return [p for p in validate(flow, lambda path: None, frozenset(), lambda: Catalog(())) if p.code in GUARDED]


def _references(flow: Flow) -> Iterator[tuple[str, Value]]:
    for node in all_nodes(flow):
        for value in node.references:
            yield node.name, value


def _cycle(flow: Flow, source: str, target: str) -> list[str] | None:
    """The nodes of a cycle through the edge ``source`` → ``target`` (``target`` reads ``source``), in the
    order data flows, from ``source`` back to it; ``None`` when there is none."""
    reads = {n.name: n.dependencies for n in apply_variants(flow, None).nodes}
    paths = {source: [source]}
    pending = [source]
    while pending:
        name = pending.pop(0)
        for dep in sorted(reads.get(name, ())):
            if dep == target:
                chain = [*paths[name], target]  # source reads ... reads target
                return [source, *reversed(chain)]
            if dep not in paths:
                paths[dep] = [*paths[name], dep]
                pending.append(dep)
    return None


def _reason(after: Flow, problem: Problem, edge: tuple[str, str] | None) -> str:
    """The refusal of ``problem`` (new in ``after``) in one sentence."""
    reader = next(((name, value) for name, value in _references(after) if value.name_span == problem.span), None)
    ref = reader[1].reference if reader is not None else None
    if problem.code == "self-reference" and reader is not None:
        return f"Node '{reader[0]}' cannot read its own output."
    if problem.code == "cycle" and edge is not None:
        cycle = _cycle(after, *edge)
        if cycle is not None:
            return f"That would make a cycle: {' → '.join(cycle)}; a node cannot wait for its own output."
    if problem.code == "aggregation-reference" and reader is not None and ref is not None:
        return (f"Node '{reader[0]}' runs once per line; it cannot read aggregation node '{ref.name}', which runs "
                "once for the whole run.")
    return problem.message


def refuse_breaking(flow: Flow, text: str, edits: TextEdits, edge: tuple[str, str] | None = None) -> TextEdits:
    """``edits`` when they bring none of the ``GUARDED`` problems the flow does not already have; else
    ``EditError`` saying why. ``edge`` is the connection the edit makes (``source``, ``target``), to name a
    cycle by it."""
    before = Counter((p.code, p.message) for p in _problems(flow))
    after, _ = load_flow_text(applied_text(text, edits), flow.path)
    for problem in _problems(after):
        key = (problem.code, problem.message)
        if before[key] > 0:
            before[key] -= 1
            continue
        log.info("refused an edit: %s", problem.message)
        raise EditError(_reason(after, problem, edge))
    return edits
