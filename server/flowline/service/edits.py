"""Edits that change a flow, asked for by the visual editor (``flowline.editFlow``): add, remove or
rename a node, set or clear a node input, connect an output to an input, set a node-level field, add a
variant or choose the default one (``service/variant_edits.py``). An edit that would make a cycle or
have a line node read an aggregation node is refused (``service/edit_rules.py``); the inputs and tool
fields of a ``use_variants`` node are its default variant's. Each is computed from the YAML tree
(``service/yaml_edit.py``), so it lands in the right place whatever the key order or style of the file,
and leaves comments and formatting elsewhere as they are."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowline.flow.files import Reader, resolve_source
from flowline.flow.model import Flow
from flowline.flow.package_tools import PackageTool, ToolSource
from flowline.flow.parse import YMap, YNode, YScalar, YSeq
from flowline.flow.references import parse_reference
from flowline.service.edit_rules import refuse_breaking
from flowline.service.fixes import stub_text, tool_import
from flowline.service.navigate import rename
from flowline.service.variant_edits import add_variant, default_variant_block, set_default_variant, variant_file
from flowline.service.yaml_edit import (
    EditError,
    TextEdits,
    add_item,
    insert_lines,
    remove_entry,
    remove_item,
    set_entry,
    set_in,
)
from flowline.service.yaml_text import layout, scalar

_NAME = re.compile(r"[A-Za-z0-9_.\-]+")  # as flow.schema.json's node name pattern
NODE_FIELDS = ("type", "source", "connection", "api", "provider", "activate", "aggregation", "use_variants",
               "module", "tool", "description", "comment", "enable_cache")
"""Node keys ``setNodeField`` sets; ``name`` and ``inputs`` have their own edits."""
LLM_PARAMETERS = {"temperature": 0.7, "max_tokens": 256}
"""The parameters a new LLM node starts with (as ``pf flow init --type chat`` writes them)."""
VARIANT_FIELDS = ("type", "source", "connection", "api", "provider", "module", "tool")
"""Node keys a ``use_variants`` node keeps in its default variant (``setNodeField`` sets them there)."""
EDIT_KINDS = ("addNode", "removeNode", "renameNode", "setInput", "clearInput", "connect", "setNodeField",
              "addVariant", "setDefaultVariant")


def _node_item(root: YNode | None, name: str) -> tuple[YSeq, int, YMap]:
    """The ``nodes`` sequence, the index of the node called ``name`` in it, and its mapping."""
    nodes = root.get("nodes") if isinstance(root, YMap) else None
    if isinstance(nodes, YSeq):
        for index, item in enumerate(nodes.items):
            named = item.get("name") if isinstance(item, YMap) else None
            if isinstance(item, YMap) and isinstance(named, YScalar) and named.value == name:
                return nodes, index, item
    raise EditError(f"The flow has no node '{name}'.")


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise EditError(f"'{name}' is not a valid node name: use letters, digits, '_', '.' and '-' only.")


def _source_path(name: str, kind: str, path: str | None) -> str:
    return path or f"{name}.{'py' if kind == 'python' else 'jinja2'}"


def _model_for(flow: Flow, connection: str | None) -> str:
    """The model (``deployment_name``) the flow's LLM nodes already ask of ``connection``; empty when
    none does, which validation reports for the user to fill in."""
    for node in flow.nodes:
        if node.type != "llm" or node.connection is None or node.connection.value != connection:
            continue
        item = node.input("deployment_name") or node.input("model")
        if item is not None and item.value.reference is None and isinstance(item.value.value, str) \
                and item.value.value:
            return item.value.value
    return ""


def new_node(flow: Flow, name: str, kind: str, path: str | None, connections: Sequence[str],
             tool: PackageTool | None = None) -> dict[str, Any]:
    """The mapping of a node added to ``flow``: its source file and empty inputs; an LLM node also gets
    a model, common parameters, ``api: chat`` and the first of the stored ``connections`` (without a
    stored connection the key is left out and validation asks for one). A node of package ``tool`` has
    the tool's type, ``source: {type: package, tool: <id>}`` and the tool's inputs that have a default, set
    to it; the required ones are left for the user, whom validation and the inspector name them to (an
    empty value would pass validation and fail the run, as under promptflow)."""
    if tool is not None:
        return {"name": name, "type": tool.type, "source": {"type": "package", "tool": tool.id},
                "inputs": {i.name: i.default for i in tool.inputs if i.has_default}}
    node: dict[str, Any] = {"name": name, "type": kind,
                            "source": {"type": "code", "path": _source_path(name, kind, path)}, "inputs": {}}
    if kind == "llm":
        connection = sorted(connections)[0] if connections else None
        node["inputs"] = {"deployment_name": _model_for(flow, connection), **LLM_PARAMETERS}
        if connection is not None:
            node["connection"] = connection
        node["api"] = "chat"
    return node


def add_node(flow: Flow, text: str, root: YNode | None, node: dict[str, Any]) -> TextEdits:
    """Append ``node`` (see ``new_node``) at the end of ``nodes``, creating ``nodes`` when missing.
    Raises ``EditError`` for a taken or invalid name, or a file that is not a mapping."""
    name = str(node["name"])
    _check_name(name)
    if flow.node(name) is not None:
        raise EditError(f"A node named '{name}' already exists.")
    doc = layout(text, root)
    if root is None:  # an empty file, or comments only
        at = len(doc.lines) - 1 if doc.lines[-1] == "" else len(doc.lines)
        return [insert_lines(doc, at, doc.entry_lines("nodes", [node], 0))]
    if not isinstance(root, YMap):
        raise EditError("flow.dag.yaml must be a mapping of 'inputs:', 'outputs:' and 'nodes:' before a node can "
                        "be added; fix line 1.")
    return add_item(doc, root, "nodes", node)


def remove_node(text: str, root: YNode | None, name: str) -> TextEdits:
    """Delete a node's lines (its references elsewhere are left for diagnostics to point at)."""
    nodes, index, _ = _node_item(root, name)
    doc = layout(text, root)
    owner = root.key("nodes") if isinstance(root, YMap) and not doc.is_flow(root) else None
    return remove_item(doc, nodes, index, owner)


def rename_node(flow: Flow, name: str, new_name: str) -> TextEdits:
    """Rename a node and every reference to it."""
    node = flow.node(name)
    if node is None:
        raise EditError(f"The flow has no node '{name}'.")
    _check_name(new_name)
    if flow.node(new_name) is not None:
        raise EditError(f"A node named '{new_name}' already exists.")
    # The declaration is a scalar of its own, which a name like `123` must quote to stay a string;
    # references sit inside `${...}` strings, where the name is written as it is.
    return [(span, scalar(new_name) if span == node.name_span else text)
            for span, text in rename(flow, node.name_span.start_line, node.name_span.start_col, new_name)]


def _definition(flow: Flow, root: YNode | None, node: str) -> YMap:
    """Where a node's inputs and tool are written: its ``nodes`` item, or a ``use_variants`` node's default
    variant."""
    _, _, block = _node_item(root, node)
    return default_variant_block(flow, root, node) or block


def set_input(flow: Flow, text: str, root: YNode | None, node: str, name: str, value: Any) -> TextEdits:
    """Set a node input (replacing its value, or adding the key and ``inputs`` as needed); refused when a
    reference it sets would make a cycle or read an aggregation node from a line node."""
    edits = set_in(layout(text, root), _definition(flow, root, node), ("inputs", name), value)
    ref = parse_reference(value.strip()) if isinstance(value, str) else None
    if ref is None or ref.kind != "node":
        return edits
    return refuse_breaking(flow, text, edits, (ref.name, node))


def clear_input(flow: Flow, text: str, root: YNode | None, node: str, name: str) -> TextEdits:
    """Remove a node input's entry."""
    block = _definition(flow, root, node)
    inputs = block.get("inputs")
    doc = layout(text, root)
    if not isinstance(inputs, YMap) or not any(k.value == name for k, _ in inputs.items):
        raise EditError(f"Node '{node}' has no input '{name}'.")
    return remove_entry(doc, inputs, name, None if doc.is_flow(block) else block.key("inputs"))


def set_node_field(flow: Flow, text: str, root: YNode | None, node: str, field: str, value: Any) -> TextEdits:
    """Set a node-level key such as ``connection`` or ``api`` to ``value``; ``None`` removes the key.
    ``aggregation`` and ``activate`` are refused when they would make a cycle or have a line node read an
    aggregation node."""
    if field not in NODE_FIELDS:
        raise EditError(f"setNodeField cannot set '{field}'; it sets {', '.join(NODE_FIELDS)} (use renameNode "
                        "for 'name' and setInput for 'inputs').")
    _, _, block = _node_item(root, node)
    if field in VARIANT_FIELDS:
        block = _definition(flow, root, node)
    doc = layout(text, root)
    if value is None:
        return remove_entry(doc, block, field) if any(k.value == field for k, _ in block.items) else []
    edits = set_entry(doc, block, field, value)
    if field == "aggregation":
        return refuse_breaking(flow, text, edits)
    when = value.get("when") if field == "activate" and isinstance(value, dict) else None
    ref = parse_reference(when.strip()) if isinstance(when, str) else None
    if ref is not None and ref.kind == "node":
        return refuse_breaking(flow, text, edits, (ref.name, node))
    return edits


def _syntax_error(flow: Flow) -> None:
    """Edits are computed from the tree, which a YAML syntax error cuts short: refuse until it is fixed."""
    problem = next((p for p in flow.problems if p.code == "yaml-syntax"), None)
    if problem is not None:
        raise EditError(f"flow.dag.yaml has a YAML syntax error at line {problem.span.start_line + 1}; fix it "
                        f"before editing the graph. {problem.message}")


def _package_tool(edit: dict[str, Any], tools: ToolSource | None) -> PackageTool | None:
    """The package tool an ``addNode`` edit names in ``tool`` (``None`` when it names none)."""
    if not edit.get("tool"):
        return None
    tool = tools().get(str(edit["tool"])) if tools is not None else None
    if tool is None:
        raise EditError(f"No installed package offers the tool '{edit['tool']}'; `flowline tool list` shows "
                        "the installed ones.")
    return tool


def apply_edit(flow: Flow, text: str, root: YNode | None, edit: dict[str, Any],
               connections: Sequence[str] = (), tools: ToolSource | None = None) -> TextEdits:
    """The text edits of an editor request ``{"kind": ..., ...}`` (kinds: ``EDIT_KINDS``);
    ``connections`` are the stored connection names (a new LLM node uses the first); ``tools`` lists the
    package tools an ``addNode`` edit may name in ``tool``. Raises
    ``EditError`` for an unknown kind, a missing field, or an edit that does not apply."""
    kind = edit.get("kind")
    try:
        if kind not in EDIT_KINDS:
            raise EditError(f"Unknown edit kind '{kind}'; use {', '.join(EDIT_KINDS)}.")
        _syntax_error(flow)
        if kind == "addNode":
            node = new_node(flow, str(edit["name"]), str(edit.get("type", "python")), edit.get("path"), connections,
                            _package_tool(edit, tools))
            return add_node(flow, text, root, node)
        if kind == "removeNode":
            return remove_node(text, root, str(edit["name"]))
        if kind == "renameNode":
            return rename_node(flow, str(edit["name"]), str(edit["newName"]))
        if kind == "setInput":
            return set_input(flow, text, root, str(edit["node"]), str(edit["input"]), edit["value"])
        if kind == "clearInput":
            return clear_input(flow, text, root, str(edit["node"]), str(edit["input"]))
        if kind == "connect":
            return set_input(flow, text, root, str(edit["to"]), str(edit["input"]),
                             "${" + str(edit["from"]) + ".output}")
        if kind == "addVariant":
            return add_variant(flow, text, root, str(edit["node"]), str(edit["variant"]))
        if kind == "setDefaultVariant":
            return set_default_variant(flow, text, root, str(edit["node"]), str(edit["variant"]))
        return set_node_field(flow, text, root, str(edit["node"]), str(edit["field"]), edit["value"])
    except KeyError as exc:
        raise EditError(f"Edit '{kind}' needs '{exc.args[0]}'.") from exc


def new_files(flow: Flow, edit: dict[str, Any], read: Reader) -> list[tuple[Path, str]]:
    """Files an edit brings into being: a node added with a source file that does not exist yet gets
    a first version (a ``@tool`` function or a template) so the flow stays runnable; a new variant gets a
    copy of its default variant's template."""
    if edit.get("kind") == "addVariant":
        return variant_file(flow, edit, read)
    if edit.get("kind") != "addNode" or "name" not in edit or edit.get("tool"):
        return []
    kind = str(edit.get("type", "python"))
    path = resolve_source(flow, _source_path(str(edit["name"]), kind, edit.get("path")))
    if read(path) is not None:
        return []
    return [(path, stub_text(kind, str(edit["name"]), [], tool_import(flow, read)))]
