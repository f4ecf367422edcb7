"""Small text edits that change a flow (used by the visual editor): add, remove or rename a node,
set or clear a node input, connect an output to an input. Each edit touches only the lines it
must, so comments and formatting elsewhere stay as they are."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flowline.flow.files import Reader, resolve_source
from flowline.flow.fixes import stub_text
from flowline.flow.model import Flow
from flowline.flow.navigate import rename
from flowline.flow.parse import YMap, YNode, YScalar, YSeq, block_end_line
from flowline.flow.spans import Span

TextEdits = list[tuple[Span, str]]
_PLAIN = re.compile(r"^[A-Za-z_$][\w${}.\[\]'\- /]*$")


class EditError(ValueError):
    """An edit that does not apply to the flow as it is."""


def yaml_value(value: Any) -> str:
    """A value written for a YAML flow line (strings left plain when that reads back the same)."""
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in ("true", "false", "null", "yes", "no", "on", "off") \
                and not value.endswith(" "):
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _nodes(root: YNode | None) -> YSeq | None:
    nodes = root.get("nodes") if isinstance(root, YMap) else None
    return nodes if isinstance(nodes, YSeq) else None


def _node_block(root: YNode | None, name: str) -> YMap:
    nodes = _nodes(root)
    for item in nodes.items if nodes else ():
        if isinstance(item, YMap):
            named = item.get("name")
            if isinstance(named, YScalar) and named.value == name:
                return item
    raise EditError(f"The flow has no node '{name}'.")


def _source_path(name: str, kind: str, path: str | None) -> str:
    return path or f"{name}.{'py' if kind == 'python' else 'jinja2'}"


def add_node(text: str, root: YNode | None, name: str, kind: str = "python", path: str | None = None) -> TextEdits:
    """Append a node at the end of ``nodes``."""
    nodes = _nodes(root)
    if nodes is not None and any(isinstance(i, YMap) and isinstance(i.get("name"), YScalar)
                                 and i.get("name").value == name for i in nodes.items):  # type: ignore[union-attr]
        raise EditError(f"A node named '{name}' already exists.")
    source = _source_path(name, kind, path)
    lines = text.split("\n")
    if nodes is not None and nodes.items:
        dash = max(nodes.items[0].span.start_col - 2, 0)
        pad = " " * dash
        block = (f"{pad}- name: {name}\n{pad}  type: {kind}\n{pad}  source:\n{pad}    type: code\n"
                 f"{pad}    path: {source}\n{pad}  inputs: {{}}\n")
        line = block_end_line(nodes)
        return [(Span.point(min(line, len(lines)), 0), block)]
    block = f"- name: {name}\n  type: {kind}\n  source:\n    type: code\n    path: {source}\n  inputs: {{}}\n"
    prefix = "" if text.endswith("\n") or not text else "\n"
    end = Span.point(len(lines) - 1, len(lines[-1]))
    return [(end, f"{prefix}nodes:\n{block}")]


def remove_node(root: YNode | None, name: str) -> TextEdits:
    """Delete a node's lines (its references elsewhere are left for diagnostics to point at)."""
    block = _node_block(root, name)
    return [(Span(block.span.start_line, 0, block_end_line(block), 0), "")]


def rename_node(flow: Flow, name: str, new_name: str) -> TextEdits:
    """Rename a node and every reference to it."""
    node = flow.node(name)
    if node is None:
        raise EditError(f"The flow has no node '{name}'.")
    if flow.node(new_name) is not None:
        raise EditError(f"A node named '{new_name}' already exists.")
    return rename(flow, node.name_span.start_line, node.name_span.start_col, new_name)


def _raw(lines: list[str], span: Span) -> str:
    if span.start_line != span.end_line:
        return json.dumps(None)
    return lines[span.start_line][span.start_col:span.end_col]


def set_input(text: str, root: YNode | None, node: str, name: str, value: Any) -> TextEdits:
    """Set a node input (replacing its value, or adding the key)."""
    block = _node_block(root, node)
    inputs = block.get("inputs")
    written = yaml_value(value)
    key_col = block.items[0][0].span.start_col
    pad = " " * (key_col + 2)
    lines = text.split("\n")
    if isinstance(inputs, YMap):
        for key, current in inputs.items:
            if key.value == name:
                return [(current.span, written)]
        if lines[inputs.span.start_line][inputs.span.start_col:].startswith("{"):
            # A flow mapping (`inputs: {}` or `{a: 1}`): rewrite it as a block with the new entry.
            entries = "".join(f"\n{pad}{k.value}: {_raw(lines, v.span)}" for k, v in inputs.items)
            return [(inputs.span, f"{entries}\n{pad}{name}: {written}")]
        indent = " " * inputs.items[0][0].span.start_col
        return [(Span.point(block_end_line(inputs), 0), f"{indent}{name}: {written}\n")]
    inputs_key = block.key("inputs")
    if inputs_key is not None and inputs is not None:  # `inputs:` with no value yet
        return [(Span(inputs_key.span.end_line, inputs_key.span.end_col, inputs.span.end_line, inputs.span.end_col),
                 f":\n{pad}{name}: {written}")]
    return [(Span.point(block_end_line(block), 0), f"{' ' * key_col}inputs:\n{pad}{name}: {written}\n")]


def clear_input(root: YNode | None, node: str, name: str) -> TextEdits:
    """Remove a node input's line(s)."""
    block = _node_block(root, node)
    inputs = block.get("inputs")
    if isinstance(inputs, YMap):
        for key, current in inputs.items:
            if key.value == name:
                return [(Span(key.span.start_line, 0, current.span.end_line + 1, 0), "")]
    raise EditError(f"Node '{node}' has no input '{name}'.")


def apply_edit(flow: Flow, text: str, root: YNode | None, edit: dict[str, Any]) -> TextEdits:
    """Dispatch an editor request ``{"kind": ..., ...}`` to the edit it names."""
    kind = edit.get("kind")
    try:
        if kind == "addNode":
            return add_node(text, root, str(edit["name"]), str(edit.get("type", "python")), edit.get("path"))
        if kind == "removeNode":
            return remove_node(root, str(edit["name"]))
        if kind == "renameNode":
            return rename_node(flow, str(edit["name"]), str(edit["newName"]))
        if kind == "setInput":
            return set_input(text, root, str(edit["node"]), str(edit["input"]), edit["value"])
        if kind == "clearInput":
            return clear_input(root, str(edit["node"]), str(edit["input"]))
        if kind == "connect":
            return set_input(text, root, str(edit["to"]), str(edit["input"]), "${" + str(edit["from"]) + ".output}")
    except KeyError as exc:
        raise EditError(f"Edit '{kind}' needs '{exc.args[0]}'.") from exc
    raise EditError(f"Unknown edit kind '{kind}'; use addNode, removeNode, renameNode, setInput, clearInput "
                    "or connect.")


def new_files(flow: Flow, edit: dict[str, Any], read: Reader) -> list[tuple[Path, str]]:
    """Files an edit brings into being: a node added with a source file that does not exist yet gets
    a first version (a ``@tool`` function or a template) so the flow stays runnable."""
    if edit.get("kind") != "addNode" or "name" not in edit:
        return []
    kind = str(edit.get("type", "python"))
    path = resolve_source(flow, _source_path(str(edit["name"]), kind, edit.get("path")))
    if read(path) is not None:
        return []
    return [(path, stub_text(kind, str(edit["name"]), []))]
