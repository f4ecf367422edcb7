"""The visual editor's variant edits (``addVariant``, ``setDefaultVariant``) and where an edit of a
``use_variants`` node's definition lands (its default variant's ``node:`` mapping).

``addVariant`` on a node without variants moves the node's definition, as it is written (keys, comments,
block or flow style), under ``node_variants.<node>.variants.variant_0.node``, leaves ``name`` and
``use_variants: true`` in ``nodes``, and adds the new variant as a copy of the default one whose template
is ``<node>__<variant>.jinja2`` (``new_files`` in ``service/edits.py`` creates it from the default
variant's template). A node that has variants gets the copy appended to its ``variants``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flowline.flow.files import Reader, resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.parse import YMap, YNode, YScalar, YSeq, to_python
from flowline.flow.spans import Span
from flowline.service.yaml_edit import EditError, TextEdits, dash_line, insert_entry, insert_lines, set_in
from flowline.service.yaml_text import Layout, inline, layout, scalar

VARIANT_ID = re.compile(r"[A-Za-z0-9_]+")
FIRST_VARIANT = "variant_0"
VARIANT_KINDS = ("llm", "prompt")
"""The node types a variant can be added to: their template is what a variant changes."""

# A node's definition written as text: block lines at their columns (the first key's column is the
# second item), or one line of flow mapping.
_Text = tuple[list[str], int] | str


def variant_path(node: str, variant: str) -> str:
    """The template a new variant gets (in the flow folder)."""
    return f"{node}__{variant}.jinja2"


def _child(mapping: YNode | None, *keys: str) -> YNode | None:
    for key in keys:
        mapping = mapping.get(key) if isinstance(mapping, YMap) else None
    return mapping


def variant_block(root: YNode | None, node: str, variant: str) -> YMap | None:
    """The ``node:`` mapping of ``node_variants.<node>.variants.<variant>``, if the text has it."""
    found = _child(root, "node_variants", node, "variants", variant, "node")
    return found if isinstance(found, YMap) else None


def default_variant_block(flow: Flow, root: YNode | None, node: str) -> YMap | None:
    """Where a ``use_variants`` node's definition (inputs, connection, ...) is written: its default
    variant's ``node:`` mapping; ``None`` for a node without variants (its ``nodes`` item holds it)."""
    model = flow.node(node)
    entry = flow.variants_of(node) if model is not None and model.use_variants else None
    if entry is None or entry.default_variant_id is None:
        return None
    return variant_block(root, node, entry.default_variant_id)


def _check_variant_node(name: str, node: Node) -> str:
    """The template path of a node a variant can be added to; refuses other nodes."""
    if node.source is not None and node.source.type != "code":
        raise EditError(f"Node '{name}' uses package tool '{node.source.tool}'; only llm and prompt nodes with a "
                        "template file can have variants.")
    if node.type not in VARIANT_KINDS:
        raise EditError(f"Node '{name}' is a {node.type or 'typeless'} node; only llm and prompt nodes can have "
                        "variants.")
    if node.source is None or not node.source.path:
        raise EditError(f"Node '{name}' has no template file (source.path) for a variant to copy.")
    return node.source.path


def _reindent(lines: list[str], from_col: int, to_col: int) -> list[str]:
    shift = to_col - from_col
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif shift >= 0:
            out.append(" " * shift + line)
        else:
            out.append(line[min(-shift, len(line) - len(line.lstrip(" "))):])
    return out


def _with_path(doc: Layout, mapping: YMap, path: str) -> dict[int, str]:
    """The lines of ``mapping`` that change when its ``source.path`` becomes ``path`` (by line index)."""
    source = mapping.get("source")
    value = source.get("path") if isinstance(source, YMap) else None
    if not isinstance(value, YScalar) or not isinstance(source, YMap) or value.span.start_line != value.span.end_line:
        return {}
    row = doc.lines[value.span.start_line].rstrip("\r")
    return {value.span.start_line: row[:value.span.start_col] + scalar(path, doc.is_flow(source))
            + row[value.span.end_col:]}


def _node_text(doc: Layout, mapping: YMap, path: str | None = None, skip: str | None = None,
               start: int | None = None) -> _Text:
    """``mapping`` (a node's definition) as text without its entry ``skip``, with ``source.path`` set to
    ``path`` when given: the block's own lines from ``start`` (default: its first key's; comments between
    its entries included), or one flow line."""
    if doc.is_flow(mapping):
        value = to_python(mapping)
        value.pop(skip, None)
        if path is not None and isinstance(value.get("source"), dict):
            value["source"]["path"] = path
        return "{" + ", ".join(f"{scalar(str(k), True)}: {inline(v, True)}" for k, v in value.items()) + "}"
    changed = _with_path(doc, mapping, path) if path is not None else {}
    col = mapping.items[0][0].span.start_col
    first, end = mapping.items[0][0].span.start_line, doc.next_line(mapping)
    dropped: set[int] = set()
    for key, value in mapping.items:
        if key.value == skip:
            dropped.update(range(key.span.start_line, doc.next_line(value)))
    lines = []
    for index in range(first if start is None else min(start, first), end):
        if index in dropped:
            continue
        row = changed.get(index, doc.lines[index].rstrip("\r"))
        lines.append(" " * col + row[col:] if index == first else row)  # the dash of a sequence item goes
    return lines, col


def _variant_lines(doc: Layout, variant: str, text: _Text, col: int) -> list[str]:
    """``<variant>:`` at ``col`` holding ``node:`` with the definition ``text``."""
    head = [f"{' ' * col}{variant}:"]
    if isinstance(text, str):
        return [*head, f"{' ' * (col + doc.unit)}node: {text}"]
    lines, from_col = text
    return [*head, f"{' ' * (col + doc.unit)}node:", *_reindent(lines, from_col, col + 2 * doc.unit)]


def _as_value(mapping: YMap, skip: str | None, path: str | None) -> dict[str, Any]:
    """The definition as a value, for a place that is written inline."""
    value = to_python(mapping)
    value.pop(skip, None)
    if path is not None and isinstance(value.get("source"), dict):
        value["source"] = {**value["source"], "path": path}
    return value


def _nodes_item(root: YNode | None, name: str) -> tuple[YSeq, YMap]:
    nodes = root.get("nodes") if isinstance(root, YMap) else None
    for item in nodes.items if isinstance(nodes, YSeq) else ():
        named = item.get("name") if isinstance(item, YMap) else None
        if isinstance(item, YMap) and isinstance(named, YScalar) and named.value == name:
            assert isinstance(nodes, YSeq)
            return nodes, item
    raise EditError(f"The flow has no node '{name}'.")


def _keep_name(doc: Layout, nodes: YSeq, item: YMap, name: str) -> TextEdits:
    """The ``nodes`` item reduced to its ``name`` and ``use_variants: true``."""
    key = item.key("name")
    value = item.get("name")
    assert key is not None and value is not None
    if doc.is_flow(item) or doc.is_flow(nodes):
        name_text = doc.lines[key.span.start_line][value.span.start_col:value.span.end_col] \
            if value.span.start_line == value.span.end_line else scalar(name, True)
        return [(item.span, f"{{name: {name_text}, use_variants: true}}")]
    row = doc.lines[key.span.start_line].rstrip("\r")
    name_line = row[key.span.start_col:] if value.span.end_line == key.span.start_line \
        else f"name: {scalar(name)}"
    col = item.items[0][0].span.start_col
    first = item.items[0][0].span.start_line
    dash = dash_line(doc, nodes, item)
    lines = [] if dash == first else [doc.lines[dash].rstrip("\r")]
    lead = doc.lines[first][:col] if dash == first else " " * col
    lines += [lead + name_line, " " * col + "use_variants: true"]
    end = doc.next_line(item)
    tail = doc.eol if end < len(doc.lines) else ""
    return [(Span(dash, 0, *doc.line_start(end)), doc.eol.join(lines) + tail)]


def _entry(variants: list[tuple[str, _Text]], default: str, doc: Layout, col: int, name: str) -> list[str]:
    """``<name>:`` at ``col`` with ``default_variant_id`` and ``variants``."""
    lines = [f"{' ' * col}{scalar(name)}:", f"{' ' * (col + doc.unit)}default_variant_id: {scalar(default)}",
             f"{' ' * (col + doc.unit)}variants:"]
    for variant, text in variants:
        lines += _variant_lines(doc, variant, text, col + 2 * doc.unit)
    return lines


def _first_variant(flow: Flow, text: str, root: YNode | None, name: str, node: Node, variant: str) -> TextEdits:
    """Turn a node without variants into ``use_variants: true`` with ``variant_0`` and ``variant``."""
    _check_variant_node(name, node)
    if variant == FIRST_VARIANT:
        raise EditError(f"Node '{name}' already has a variant '{variant}' (its present definition becomes it).")
    if flow.variants_of(name) is not None:
        raise EditError(f"'node_variants' already has an entry '{name}', but the node does not set "
                        "'use_variants: true'; set it, or remove that entry, first.")
    doc = layout(text, root)
    nodes, item = _nodes_item(root, name)
    new_path = variant_path(name, variant)
    # Comments between a dash on a line of its own and the first key go with the definition.
    start = dash_line(doc, nodes, item) + 1 if not doc.is_flow(nodes) else None
    variants = [(FIRST_VARIANT, _node_text(doc, item, skip="name", start=start)),
                (variant, _node_text(doc, item, new_path, skip="name", start=start))]
    edits = _keep_name(doc, nodes, item, name)
    assert isinstance(root, YMap)
    holder = root.get("node_variants")
    if not doc.is_flow(root) and holder is None:
        col = root.items[0][0].span.start_col
        lines = [f"{' ' * col}node_variants:", *_entry(variants, FIRST_VARIANT, doc, col + doc.unit, name)]
        return [*edits, insert_lines(doc, doc.next_line(root), lines)]
    if isinstance(holder, YMap) and not doc.is_flow(holder):
        lines = _entry(variants, FIRST_VARIANT, doc, holder.items[0][0].span.start_col, name)
        return [*edits, insert_lines(doc, doc.next_line(holder), lines)]
    value = {"default_variant_id": FIRST_VARIANT,
             "variants": {FIRST_VARIANT: {"node": _as_value(item, "name", None)},
                          variant: {"node": _as_value(item, "name", new_path)}}}
    return [*edits, *set_in(doc, root, ("node_variants", name), value)]


def add_variant(flow: Flow, text: str, root: YNode | None, name: str, variant: str) -> TextEdits:
    """``addVariant``: add ``variant`` to an llm or prompt node, a copy of its default variant (of its
    definition, for a node without variants) whose template is ``variant_path(name, variant)``."""
    node = flow.node(name)
    if node is None:
        raise EditError(f"The flow has no node '{name}'.")
    if not VARIANT_ID.fullmatch(variant):
        raise EditError(f"'{variant}' is not a valid variant id: use letters, digits and '_' only.")
    entry = flow.variants_of(name) if node.use_variants else None
    if entry is None:
        if node.use_variants:
            raise EditError(f"Node '{name}' sets 'use_variants: true' but 'node_variants' has no entry '{name}'; "
                            "add it first.")
        return _first_variant(flow, text, root, name, node, variant)
    if entry.variant(variant) is not None:
        raise EditError(f"Node '{name}' already has a variant '{variant}'.")
    default = entry.variant(entry.default_variant_id or "")
    block = variant_block(root, name, default.id) if default is not None else None
    holder = _child(root, "node_variants", name, "variants")
    if default is None or block is None or not isinstance(holder, YMap):
        ids = ", ".join(v.id for v in entry.variants)
        raise EditError(f"Node '{name}' has no default variant to copy (default_variant_id is "
                        f"'{entry.default_variant_id}', its variants are {ids}); set it first.")
    _check_variant_node(name, default.node)
    doc = layout(text, root)
    new_path = variant_path(name, variant)
    if doc.is_flow(holder):
        return insert_entry(doc, holder, variant, {"node": _as_value(block, None, new_path)})
    lines = _variant_lines(doc, variant, _node_text(doc, block, new_path), holder.items[0][0].span.start_col)
    return [insert_lines(doc, doc.next_line(holder), lines)]


def set_default_variant(flow: Flow, text: str, root: YNode | None, name: str, variant: str) -> TextEdits:
    """``setDefaultVariant``: make ``variant`` the one that runs (``default_variant_id``)."""
    node = flow.node(name)
    if node is None:
        raise EditError(f"The flow has no node '{name}'.")
    entry = flow.variants_of(name)
    if entry is None or not node.use_variants:
        raise EditError(f"Node '{name}' has no variants; add one with addVariant first.")
    if entry.variant(variant) is None:
        raise EditError(f"Node '{name}' has no variant '{variant}'; its variants are "
                        f"{', '.join(v.id for v in entry.variants)}.")
    return set_in(layout(text, root), root, ("node_variants", name, "default_variant_id"), variant) \
        if isinstance(root, YMap) else []


def variant_file(flow: Flow, edit: dict[str, Any], read: Reader) -> list[tuple[Path, str]]:
    """The template an ``addVariant`` edit creates: the default variant's template text (empty when it
    cannot be read), unless the file already exists."""
    name, variant = str(edit.get("node")), str(edit.get("variant"))
    node = flow.node(name)
    entry = flow.variants_of(name) if node is not None and node.use_variants else None
    default = entry.variant(entry.default_variant_id or "") if entry is not None else None
    model = default.node if default is not None else node
    if model is None or model.source is None or not model.source.path:
        return []
    path = resolve_source(flow, variant_path(name, variant))
    if read(path) is not None:
        return []
    return [(path, read(resolve_source(flow, model.source.path)) or "")]

