"""JSON-Schema checks of flow.dag.yaml (schemas/flow.schema.json), each error at its YAML span."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flowline.flow.parse import YMap, YNode, YScalar, YSeq, to_python
from flowline.flow.problems import Problem, did_you_mean, error, sentence
from flowline.flow.spans import Span

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "flow.schema.json"


@dataclass(frozen=True)
class _Error:
    """What is kept of a jsonschema error: enough to place and word it."""

    path: tuple[Any, ...]
    validator: str
    message: str
    allowed: frozenset[str]


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    """schemas/flow.schema.json, read once (validation, completion and hover use it)."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=2)
def _validator(part: str) -> Any:
    """The validator of the whole flow (``root``) or of one node (``node``)."""
    from jsonschema import Draft202012Validator

    schema = flow_schema()
    if part == "node":
        schema = {"$schema": schema["$schema"], "$ref": "#/$defs/node", "$defs": schema["$defs"]}
    return Draft202012Validator(schema)


def _errors(part: str, instance: Any) -> list[_Error]:
    return [_Error(tuple(e.absolute_path), str(e.validator), e.message,
                   frozenset(e.schema.get("properties", {})) if isinstance(e.schema, dict) else frozenset())
            for e in _validator(part).iter_errors(instance)]


@lru_cache(maxsize=4096)
def _node_errors(canonical: str) -> tuple[_Error, ...]:
    """Errors of one node, cached by its content: an edit re-checks only the node it touched."""
    return tuple(_errors("node", json.loads(canonical)))


def _locate(root: YNode, path: tuple[Any, ...]) -> tuple[YNode, YScalar | None]:
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


def _problem(root: YNode, err: _Error) -> list[Problem]:
    node, key = _locate(root, err.path)
    where = ".".join(str(p) for p in err.path) or "the flow"
    if err.validator == "additionalProperties" and isinstance(node, YMap):
        problems = []
        for k, _ in node.items:
            if k.value not in err.allowed:
                hint = did_you_mean(str(k.value), sorted(err.allowed))
                problems.append(error(k.span, "schema-unknown-key", f"Unknown key '{k.value}' in {where}.{hint}"))
        return problems
    if err.validator == "required":
        span = key.span if key is not None else Span.point(node.span.start_line, node.span.start_col)
        return [error(span, "schema-required", sentence(f"{where}: {err.message}"))]
    return [error(node.span, "schema", sentence(f"{where}: {err.message}"))]


def _json_keys(value: Any) -> Any:
    """The value with every mapping key a string, as JSON has them (YAML allows `~:` or `1:` keys)."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


def schema_problems_for(root: YNode | None) -> list[Problem]:
    """Schema errors of a parsed flow, located in the source."""
    if root is None:
        return []
    data = _json_keys(to_python(root))
    errors: list[_Error] = []
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(nodes, list):
        errors += _errors("root", {**data, "nodes": []})
        for index, item in enumerate(nodes):
            canonical = json.dumps(item, sort_keys=True, default=str)
            errors += [_Error(("nodes", index, *e.path), e.validator, e.message, e.allowed)
                       for e in _node_errors(canonical)]
    else:
        errors += _errors("root", data)
    problems: list[Problem] = []
    for err in errors:
        problems.extend(_problem(root, err))
    return problems


def with_schema_problems(root: YNode | None, known: list[Problem]) -> list[Problem]:
    """``known`` plus the schema errors that no known problem reports at the same place, in source order."""
    taken = {(p.span.start_line, p.span.start_col) for p in known}
    seen: set[tuple[int, int, str]] = set()
    result = []
    for problem in schema_problems_for(root):
        spot = (problem.span.start_line, problem.span.start_col)
        if spot in taken or (*spot, problem.message) in seen:
            continue
        seen.add((*spot, problem.message))
        result.append(problem)
    return sorted(known + result, key=lambda p: p.span)
