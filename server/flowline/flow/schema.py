"""JSON-Schema checks of flow.dag.yaml (schemas/flow.schema.json), each error at its YAML span."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flowline.flow.parse import YMap, YNode, YScalar, YSeq, to_python
from flowline.flow.problems import Problem, did_you_mean, error
from flowline.flow.spans import Span

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "flow.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _locate(root: YNode, path: list[Any]) -> tuple[YNode, YScalar | None]:
    """The node at a JSON path, and the mapping key it sits under (when it is a mapping value)."""
    node, key = root, None
    for step in path:
        if isinstance(node, YMap):
            found = next(((k, v) for k, v in reversed(node.items) if k.value == step), None)
            if found is None:
                break
            key, node = found
        elif isinstance(node, YSeq) and isinstance(step, int) and step < len(node.items):
            key, node = None, node.items[step]
        else:
            break
    return node, key


def _problem(root: YNode, err: Any) -> list[Problem]:
    node, key = _locate(root, list(err.absolute_path))
    where = ".".join(str(p) for p in err.absolute_path) or "the flow"
    if err.validator == "additionalProperties" and isinstance(node, YMap):
        allowed = set(err.schema.get("properties", {}))
        problems = []
        for k, _ in node.items:
            if k.value not in allowed:
                hint = did_you_mean(str(k.value), sorted(allowed))
                problems.append(error(k.span, "schema-unknown-key",
                                      f"Unknown key '{k.value}' in {where}.{hint}"))
        return problems
    if err.validator == "required":
        span = key.span if key is not None else Span.point(node.span.start_line, node.span.start_col)
        return [error(span, "schema-required", f"{where}: {err.message}.")]
    return [error(node.span, "schema", f"{where}: {err.message}.")]


def schema_problems_for(root: YNode | None) -> list[Problem]:
    """Schema errors of a parsed flow, located in the source."""
    if root is None:
        return []
    problems: list[Problem] = []
    for err in _validator().iter_errors(to_python(root)):
        problems.extend(_problem(root, err))
    return problems


def schema_problems(root: YNode | None, known: list[Problem]) -> list[Problem]:
    """Schema errors of a parsed flow that no already-known problem reports at the same place."""
    taken = {(p.span.start_line, p.span.start_col) for p in known}
    seen: set[tuple[int, int, str]] = set()
    result = []
    for problem in schema_problems_for(root):
        spot = (problem.span.start_line, problem.span.start_col)
        if spot in taken or (*spot, problem.message) in seen:
            continue
        seen.add((*spot, problem.message))
        result.append(problem)
    return result
