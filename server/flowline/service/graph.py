"""The flow as a graph (for the visual editor): nodes, edges from references, and source spans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowline.chat.roles import chat_roles
from flowline.flow.files import Reader, read_disk
from flowline.flow.llm_parameters import PARAMETERS as LLM_PARAMETERS
from flowline.flow.model import Flow, Node, Value
from flowline.flow.package_tools import ToolSource
from flowline.flow.spans import Span
from flowline.service.complete import template_names, tool_signature
from flowline.service.navigate import source_location


def _span(span: Span) -> dict[str, int]:
    return {"start_line": span.start_line, "start_col": span.start_col, "end_line": span.end_line,
            "end_col": span.end_col}


def _edges_from(target: str, port: str, value: Value, activate: bool = False) -> list[dict[str, Any]]:
    """The edge of a reference ``value`` to ``target``'s ``port``; ``activate`` marks the edge of an activate
    condition (its port is ``activate``, which a tool may also name an input)."""
    ref = value.reference
    if ref is None:
        return []
    source = "inputs." + ref.name if ref.kind == "input" else ref.name
    return [{"source": source, "target": target, "port": port, "path": ref.path, "activate": activate}]


def parameters(flow: Flow, node: Node, read: Reader, tools: ToolSource | None = None) -> list[dict[str, Any]]:
    """What a node can take as inputs: its tool's parameters (read with ``ast``, or a package tool's as
    ``tools`` lists them) or its template's variables, each with its annotation, default and whether it
    must be given."""
    signature = tool_signature(flow, node, read, tools)
    if signature is not None:
        return [{"name": p.name, "annotation": p.annotation, "default": p.default_text, "required": p.required}
                for p in signature.parameters]
    return [{"name": n, "annotation": None, "default": None, "required": True}
            for n in template_names(flow, node, read)]


def _source_line(flow: Flow, node: Node, read: Reader) -> int | None:
    """The line a node's source file opens at, where go to definition on the node goes: a tool file's
    ``@tool`` function, else the first line; None for a node without a source file (a package tool)."""
    if node.source is None or not node.source.path:
        return None
    return source_location(flow, node.source.path, read).span.start_line


def _variants(flow: Flow, node: Node, read: Reader) -> dict[str, Any]:
    """A ``use_variants`` node's variants (``{id, type, source, source_line, tool, inputs, connection, api,
    span}``, in the file's order), their ids and the default (empty for other nodes), for the variant choice."""
    entry = flow.variants_of(node.name) if node.use_variants else None
    variants = entry.variants if entry else ()
    return {"variant_ids": [v.id for v in variants],
            "default_variant_id": entry.default_variant_id if entry else None,
            "variants": [{"id": v.id, **_definition(v.node), "source_line": _source_line(flow, v.node, read),
                          "span": _span(v.node.span)} for v in variants]}


def _definition(node: Node) -> dict[str, Any]:
    """What a node's definition (or a variant's) says: type, tool file or package tool, inputs as written,
    and an LLM's connection and API."""
    return {"type": node.type, "source": node.source.path if node.source else None,
            "tool": node.source.tool if node.source and node.source.type == "package" else None,
            "inputs": {i.name: i.value.value for i in node.inputs},
            "connection": node.connection.value if node.connection else None, "api": node.api}


def _shown(flow: Flow, node: Node) -> Node:
    """The definition the graph shows for a node: a ``use_variants`` node's default variant (the one that
    runs), else the node itself."""
    entry = flow.variants_of(node.name) if node.use_variants else None
    default = entry.variant(entry.default_variant_id or "") if entry else None
    return default.node if default is not None else node


def graph(flow: Flow, read: Reader = read_disk, connections: Sequence[str] = (),
          tools: ToolSource | None = None) -> dict[str, Any]:
    """Nodes (with type, inputs, parameters, spans, the line their source opens at (``source_line``); an LLM
    node's ``connection``, ``api`` and ``provider``; a package node's ``tool``; a ``use_variants`` node's
    ``variants``, whose default gives the node its type, tool, inputs, parameters and edges), flow inputs and
    outputs, edges between them, the stored ``connections`` an LLM node can use, the ``llm_parameters`` such a
    node may take (``{name, type, description, completion_only}``, the table hover and completion use), so the
    editor's inspector needs no copy of it, the installed ``package_tools`` (``{id, name, type, description}``)
    a new node can use, and how a chat flow chats (``chat``: :func:`chat_info`)."""
    nodes, edges = [], []
    for node in flow.nodes:
        shown = _shown(flow, node)
        nodes.append({
            "name": node.name, **_definition(shown), "source_line": _source_line(flow, shown, read),
            "aggregation": node.aggregation, "use_variants": node.use_variants, **_variants(flow, node, read),
            "activate": {"when": node.activate.when.value, "is": node.activate.is_.value} if node.activate else None,
            "provider": shown.provider,
            "parameters": parameters(flow, shown, read, tools),
            "span": _span(node.span), "name_span": _span(node.name_span),
        })
        for item in shown.inputs:
            edges += _edges_from(node.name, item.name, item.value)
        if node.activate is not None:
            edges += _edges_from(node.name, "activate", node.activate.when, activate=True)
    for output in flow.outputs:
        if output.reference is not None:
            edges += _edges_from("outputs." + output.name, "reference", output.reference)
    return {
        "inputs": [{"name": i.name, "type": i.type, "default": i.default.value if i.default else None,
                    "description": i.description, "is_chat_history": i.is_chat_history,
                    "is_chat_input": i.is_chat_input, "span": _span(i.span)}
                   for i in flow.inputs],
        "outputs": [{"name": o.name, "reference": o.reference.value if o.reference else None,
                     "span": _span(o.span)} for o in flow.outputs],
        "nodes": nodes,
        "edges": edges,
        "chat": chat_info(flow),
        "connections": list(connections),
        "llm_parameters": [{"name": p.name, "type": p.type, "description": p.description,
                            "completion_only": p.completion_only} for p in LLM_PARAMETERS],
        "package_tools": [{"id": t.id, "name": t.name, "type": t.type, "description": t.description}
                          for t in (tools().tools if tools is not None else ())],
    }


def chat_info(flow: Flow) -> dict[str, Any]:
    """How the chat panel talks to the flow: ``{"input", "history", "output", "stream_node",
    "accepts_images", "refusal"}``; for a flow that cannot chat only ``refusal`` (why) is set.

    ``stream_node`` is the node whose tokens are the chat output (its whole output), else None;
    ``accepts_images``: the chat input is a list (promptflow's text-and-image parts) or an image."""
    roles = chat_roles(flow)
    if isinstance(roles, str):
        return {"input": None, "history": None, "output": None, "stream_node": None, "accepts_images": False,
                "refusal": roles}
    ref = roles.output.reference.reference if roles.output and roles.output.reference else None
    stream_node = ref.name if ref is not None and ref.kind == "node" and not ref.path else None
    return {"input": roles.input.name, "history": roles.history.name,
            "output": roles.output.name if roles.output else None, "stream_node": stream_node,
            "accepts_images": roles.input.type in ("list", "image"), "refusal": None}
