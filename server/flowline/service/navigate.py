"""Hover, go to definition, find references, rename and document symbols, on the flow model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowline.flow.files import Reader, read_disk, resolve_source
from flowline.flow.llm_parameters import describe as describe_llm_parameter
from flowline.flow.model import Flow, FlowInput, Node, Value
from flowline.flow.package_tools import ToolSource
from flowline.flow.references import PropertyError, Reference, walk
from flowline.flow.signatures import read_tool_source
from flowline.flow.spans import Span
from flowline.service.complete import package_input, schema_properties, tool_signature
from flowline.service.context import cursor_at


@dataclass(frozen=True)
class Location:
    """A place in a file."""

    path: Path
    span: Span


@dataclass(frozen=True)
class Hover:
    """Markdown to show, and the span it describes."""

    markdown: str
    span: Span


@dataclass(frozen=True)
class Symbol:
    """An outline entry."""

    name: str
    kind: str
    detail: str
    span: Span
    selection: Span
    children: tuple[Symbol, ...] = field(default=())


def _nodes(flow: Flow) -> Iterator[Node]:
    yield from flow.nodes
    for entry in flow.node_variants:
        for variant in entry.variants:
            yield variant.node


def values(flow: Flow) -> Iterator[Value]:
    """Every value that may hold a reference: node inputs, activate conditions, outputs."""
    for node in _nodes(flow):
        for item in node.inputs:
            yield item.value
        if node.activate is not None:
            yield node.activate.when
    for output in flow.outputs:
        if output.reference is not None:
            yield output.reference


def _reference_at(flow: Flow, line: int, column: int) -> Value | None:
    for value in values(flow):
        if value.reference is not None and value.span.contains(line, column):
            return value
    return None


def _node_named_at(flow: Flow, line: int, column: int) -> Node | None:
    return next((n for n in flow.nodes if n.name_span.contains(line, column)), None)


def _input_named_at(flow: Flow, line: int, column: int) -> FlowInput | None:
    return next((i for i in flow.inputs if i.name_span.contains(line, column)), None)


def _describe_node(flow: Flow, node: Node, read: Reader, tools: ToolSource | None = None) -> str:
    variants = flow.variants_of(node.name) if node.use_variants else None
    if variants is not None:
        kinds = ", ".join(f"`{v.id}` ({v.node.type})" for v in variants.variants)
        return (f"**{node.name}** — node with variants: {kinds or 'none yet'}; the default is "
                f"`{variants.default_variant_id}`.")
    lines = [f"**{node.name}** — {node.type} node" + (" (aggregation)" if node.aggregation else "")]
    if node.source and node.source.path:
        lines.append(f"source: `{node.source.path}`")
    if node.source and node.source.tool:
        lines.append(f"package tool: `{node.source.tool}`")
    signature = tool_signature(flow, node, read, tools)
    if signature is not None:
        params = ", ".join(p.name + (f": {p.annotation}" if p.annotation else "")
                           + ("" if p.required else f" = {p.default_text}") for p in signature.parameters)
        returns = f" -> {signature.return_annotation}" if signature.return_annotation else ""
        lines.append(f"```python\ndef {signature.name}({params}){returns}\n```")
        if signature.docstring:
            lines.append(signature.docstring)
    return "\n\n".join(lines)


def _describe_template_variable(node: Node, name: str) -> str:
    template = f" `{node.source.path}`" if node.source and node.source.path else ""
    return f"**{name}** — a variable of the prompt template{template}."


def _describe_input(item: FlowInput) -> str:
    text = f"**inputs.{item.name}**: `{item.type}`"
    if item.default is not None:
        text += f" = `{item.default.value!r}`"
    return text + (f"\n\n{item.description}" if item.description else "")


def _last_value(ref: Reference, last_outputs: dict[str, Any]) -> str:
    if ref.name not in last_outputs:
        return ""
    try:
        value = walk(last_outputs[ref.name], ref.steps)
    except PropertyError:
        return ""
    shown = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    if len(shown) > 1500:
        shown = shown[:1500] + "\n…"
    return f"\n\n**Last run:**\n```json\n{shown}\n```"


def hover(flow: Flow, text: str, line: int, column: int, read: Reader = read_disk,
          last_outputs: dict[str, Any] | None = None, tools: ToolSource | None = None) -> Hover | None:
    """What to show for the element under the cursor (with the last run's value of a reference);
    ``tools`` gives the package tools, for package nodes."""
    value = _reference_at(flow, line, column)
    if value is not None and value.reference is not None:
        ref = value.reference
        if ref.kind == "input":
            target_input = flow.input(ref.name)
            body = _describe_input(target_input) if target_input else f"Unknown flow input `{ref.name}`."
        else:
            target = flow.node(ref.name)
            body = _describe_node(flow, target, read, tools) if target else f"Unknown node `{ref.name}`."
            if target is not None and ref.path:
                body = f"`{ref.name}.output.{ref.path}`\n\n" + body
            body += _last_value(ref, last_outputs or {})
        return Hover(body, value.span)
    node = _node_named_at(flow, line, column)
    if node is not None:
        return Hover(_describe_node(flow, node, read, tools), node.name_span)
    item = _input_named_at(flow, line, column)
    if item is not None:
        return Hover(_describe_input(item), item.name_span)
    for candidate in _nodes(flow):
        for node_input in candidate.inputs:
            if node_input.key_span.contains(line, column):
                signature = tool_signature(flow, candidate, read, tools)
                if candidate.type in ("llm", "custom_llm") and (signature is None or not signature.parameter(
                        node_input.name)):
                    described = describe_llm_parameter(node_input.name) or _describe_template_variable(
                        candidate, node_input.name)
                    return Hover(described, node_input.key_span)
                param = signature.parameter(node_input.name) if signature else None
                if param is None:
                    return None
                detail = f"`{param.name}: {param.annotation or 'any'}`" + (
                    "" if param.required else f" = `{param.default_text}`")
                declared = package_input(candidate, param.name, tools)
                if declared is not None and declared.description:
                    detail += f"\n\n{declared.description}"
                if declared is not None and declared.enum:
                    detail += "\n\nOne of: " + ", ".join(f"`{v}`" for v in declared.enum)
                return Hover(f"Parameter of `{signature.name if signature else ''}`: {detail}",
                             node_input.key_span)
    cursor = cursor_at(text, line, column)
    line_text = text.split("\n")[line] if line < len(text.split("\n")) else ""
    key = line_text.strip().lstrip("- ").split(":")[0].strip()
    spec = schema_properties(cursor.path).get(key) if not cursor.in_value else None
    if spec and spec.get("description"):
        start = line_text.index(key)
        return Hover(f"**{key}** — {spec['description']}", Span(line, start, line, start + len(key)))
    return None


def definition(flow: Flow, line: int, column: int, read: Reader = read_disk) -> list[Location]:
    """Where the element under the cursor is defined: a reference's node or input; a node's name or its
    source path, the source (a tool file at its ``@tool`` function, a template at its first line)."""
    value = _reference_at(flow, line, column)
    if value is not None and value.reference is not None:
        ref = value.reference
        if ref.kind == "input":
            found = flow.input(ref.name)
            return [Location(flow.path, found.name_span)] if found else []
        node = flow.node(ref.name)
        return [Location(flow.path, node.name_span)] if node else []
    for node in _nodes(flow):
        source = node.source
        if source is not None and source.path and source.path_span.contains(line, column):
            return [source_location(flow, source.path, read)]
    node = _node_named_at(flow, line, column)
    if node is not None and node.source is not None and node.source.path:
        return [source_location(flow, node.source.path, read)]
    return []


def source_location(flow: Flow, relative: str, read: Reader) -> Location:
    """Where a node's source starts: a tool file's single ``@tool`` function, else (a template, a file
    with no or several tools, a missing file) the first line. The visual editor's graph gives its line."""
    path = resolve_source(flow, relative)
    text = read(path) if path.suffix == ".py" else None
    tools = read_tool_source(text).tools if text is not None else ()
    return Location(path, tools[0].span if len(tools) == 1 else Span(0, 0, 0, 0))


def _target(flow: Flow, line: int, column: int) -> tuple[str, str, Span] | None:
    """(kind, name, span of the name under the cursor) for a node or flow input."""
    value = _reference_at(flow, line, column)
    if value is not None and value.reference is not None and value.name_span.contains(line, column):
        return value.reference.kind, value.reference.name, value.name_span
    node = _node_named_at(flow, line, column)
    if node is not None:
        return "node", node.name, node.name_span
    item = _input_named_at(flow, line, column)
    if item is not None:
        return "input", item.name, item.name_span
    return None


def references(flow: Flow, line: int, column: int, include_declaration: bool = True) -> list[Location]:
    """Every place that names the node or flow input under the cursor."""
    target = _target(flow, line, column)
    if target is None:
        return []
    kind, name, _ = target
    spans = []
    if include_declaration:
        declared = flow.node(name) if kind == "node" else flow.input(name)
        if declared is not None:
            spans.append(declared.name_span)
    spans.extend(v.name_span for v in values(flow)
                 if v.reference is not None and v.reference.kind == kind and v.reference.name == name)
    return [Location(flow.path, s) for s in spans]


def prepare_rename(flow: Flow, line: int, column: int) -> Span | None:
    """The span of a renamable name under the cursor (a node or flow input), else ``None``."""
    target = _target(flow, line, column)
    return target[2] if target else None


def rename(flow: Flow, line: int, column: int, new_name: str) -> list[tuple[Span, str]]:
    """Edits renaming the node or flow input under the cursor everywhere it is named."""
    return [(location.span, new_name) for location in references(flow, line, column)]


def symbols(flow: Flow) -> list[Symbol]:
    """The outline: inputs, outputs and nodes."""
    result = []
    for title, kind, members in (
            ("inputs", "input", [(i.name, i.type or "", i.span, i.name_span) for i in flow.inputs]),
            ("outputs", "output", [(o.name, o.type or "", o.span, o.name_span) for o in flow.outputs]),
            ("nodes", "node", [(n.name, n.type or "", n.span, n.name_span) for n in flow.nodes])):
        if not members:
            continue
        children = tuple(Symbol(name, kind, detail, span, selection) for name, detail, span, selection in members)
        whole = Span(children[0].span.start_line, 0, children[-1].span.end_line, children[-1].span.end_col)
        result.append(Symbol(title, "section", f"{len(children)}", whole, children[0].selection, children))
    return result
