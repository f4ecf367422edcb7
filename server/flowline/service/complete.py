"""Completion in flow.dag.yaml: references, keys, values and node snippets.

A pure function of the text, the parsed flow and the cursor; the language server only converts
the items to LSP types.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from flowline.flow.files import Reader, read_disk, resolve_source
from flowline.flow.llm_parameters import BY_NAME as LLM_PARAMETERS
from flowline.flow.model import INPUT_TYPES, NODE_TYPES, SOURCE_TYPES, Flow, Node
from flowline.flow.package_tools import ToolInput, ToolSource
from flowline.flow.schema import flow_schema
from flowline.flow.signatures import ToolSignature, read_tool_source
from flowline.flow.spans import Span
from flowline.flow.templates import TemplateError, template_variables
from flowline.service.context import Cursor, cursor_at

# The parameters completion offers; the older and completion-API ones still run and hover.
LLM_INPUTS = ("deployment_name", "model", "temperature", "top_p", "max_tokens", "stop", "presence_penalty",
              "frequency_penalty", "seed", "response_format", "tools", "tool_choice", "logit_bias")


@dataclass(frozen=True)
class Item:
    """One completion proposal; ``span`` is the text it replaces, ``snippet`` marks ``$1``-style text."""

    label: str
    kind: str
    span: Span
    insert_text: str
    detail: str = ""
    documentation: str = ""
    snippet: bool = False
    sort_text: str = ""


def schema_properties(path: tuple[str, ...]) -> dict[str, Any]:
    """The schema's properties of the mapping at ``path`` (``-`` for list items)."""
    root = flow_schema()
    defs = root["$defs"]
    if path == ():
        return dict(root["properties"])
    if path == ("nodes", "-"):
        return dict(defs["node"]["properties"])
    if len(path) == 3 and path[0] == "nodes" and path[2] in ("source", "activate"):
        return dict(defs["node"]["properties"][path[2]]["properties"])
    if len(path) == 2 and path[0] in ("inputs", "outputs"):
        return dict(root["properties"][path[0]]["additionalProperties"]["properties"])
    if len(path) >= 5 and path[0] == "node_variants" and path[-1] == "node":
        return dict(defs["variant_node"]["properties"])
    return {}


def node_at(flow: Flow, line: int) -> Node | None:
    """The node (or variant definition) whose span holds ``line``."""
    for node in flow.nodes:
        if node.span.start_line <= line <= node.span.end_line:
            return node
    for entry in flow.node_variants:
        for variant in entry.variants:
            if variant.node.span.start_line <= line <= variant.node.span.end_line:
                return variant.node
    return None


def tool_signature(flow: Flow, node: Node, read: Reader = read_disk,
                   tools: ToolSource | None = None) -> ToolSignature | None:
    """The ``@tool`` signature of a python node, read with ``ast``; for a package tool node, the tool's
    inputs as ``tools`` lists them (none without ``tools``)."""
    if node.source is not None and node.source.type in ("package", "package_with_prompt"):
        package = tools().get(node.source.tool or "") if tools is not None and node.source.tool else None
        return package.signature() if package is not None else None
    if node.type != "python" or node.source is None or not node.source.path:
        return None
    text = read(resolve_source(flow, node.source.path))
    found = read_tool_source(text).tools if text is not None else ()
    return found[0] if len(found) == 1 else None


def package_input(node: Node, name: str, tools: ToolSource | None) -> ToolInput | None:
    """Input ``name`` of a package node's tool as its metadata declares it (``enum``, ``description``);
    ``None`` for other nodes, or without ``tools``."""
    if node.source is None or node.source.type not in ("package", "package_with_prompt") or tools is None:
        return None
    tool = tools().get(node.source.tool or "")
    return tool.input(name) if tool is not None else None


def template_names(flow: Flow, node: Node, read: Reader = read_disk) -> list[str]:
    """The variables a prompt or llm node's template reads, sorted (none when it cannot be read)."""
    if node.type not in ("prompt", "llm") or node.source is None or not node.source.path:
        return []
    template = read(resolve_source(flow, node.source.path))
    try:
        return sorted(template_variables(template)) if template else []
    except TemplateError:
        return []


def _downstream(flow: Flow, name: str) -> set[str]:
    """Nodes that depend on ``name``, directly or not (referencing them would make a cycle)."""
    dependents: dict[str, list[str]] = {}
    for node in flow.nodes:
        for dependency in node.dependencies:
            dependents.setdefault(dependency, []).append(node.name)
    found: set[str] = set()
    stack = [name]
    while stack:
        for child in dependents.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _reference_items(flow: Flow, line: int, column: int, line_text: str, read: Reader,
                     last_outputs: dict[str, Any]) -> list[Item] | None:
    before = line_text[:column]
    start = before.rfind("${")
    if start < 0 or "}" in before[start:]:
        return None
    inner = before[start + 2:]
    current = node_at(flow, line)
    word_start = start + 2 + (inner.rfind(".") + 1 if "." in inner else 0)
    span = Span(line, word_start, line, column)
    if "." not in inner:
        items = [Item("inputs", "module", span, "inputs", "flow inputs", sort_text="0")]
        excluded = {current.name} | _downstream(flow, current.name) if current else set()
        for node in flow.nodes:
            if node.name in excluded or node.aggregation and not (current and current.aggregation):
                continue
            items.append(Item(node.name, "reference", span, node.name, f"{node.type} node", sort_text="1"))
        return items
    head, _, _ = inner.partition(".")
    if head in ("inputs", "flow") and inner.count(".") == 1:
        return [Item(i.name, "variable", span, i.name, i.type or "", i.description or "") for i in flow.inputs]
    target = flow.node(head)
    if target is None:
        return []
    if inner.count(".") == 1:
        return [Item("output", "property", span, "output", f"output of {head}")]
    if inner.startswith(f"{head}.output.") and inner.count(".") == 2:
        fields = _output_fields(flow, target, read)
        last = last_outputs.get(head)
        if not fields and isinstance(last, dict):
            fields = [(str(key), f"last run: {type(value).__name__}") for key, value in last.items()]
        return [Item(key, "field", span, key, detail) for key, detail in fields]
    return []


def _output_fields(flow: Flow, node: Node, read: Reader) -> list[tuple[str, str]]:
    """Keys of a tool's return value known from its annotation (a TypedDict or dataclass in the file)."""
    signature = tool_signature(flow, node, read)
    if signature is None or not signature.return_annotation or node.source is None or not node.source.path:
        return []
    text = read(resolve_source(flow, node.source.path)) or ""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == signature.return_annotation:
            return [(item.target.id, ast.unparse(item.annotation)) for item in stmt.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)]
    return []


def _present_keys(text: str, cursor: Cursor) -> set[str]:
    """Keys already written in the mapping around the cursor (same indent, same block)."""
    lines = text.split("\n")
    indent = len(lines[cursor.line]) - len(lines[cursor.line].lstrip(" "))
    if lines[cursor.line].lstrip().startswith("- "):
        indent += 2
    keys = set()
    for step in (-1, 1):
        number = cursor.line + step
        while 0 <= number < len(lines):
            raw = lines[number]
            stripped = raw.lstrip(" ")
            current = len(raw) - len(stripped)
            if stripped.startswith("- "):
                current, stripped = current + 2, stripped[2:]
                if step == -1 and current == indent:
                    keys.add(stripped.split(":")[0].strip())
                    break
            if raw.strip() and current < indent:
                break
            if current == indent and ":" in stripped:
                keys.add(stripped.split(":")[0].strip())
            number += step
    return keys


def _key_items(flow: Flow, cursor: Cursor, text: str, read: Reader, tools: ToolSource | None) -> list[Item]:
    span = Span(cursor.line, cursor.column - len(cursor.prefix), cursor.line, cursor.column)
    present = _present_keys(text, cursor)
    if len(cursor.path) == 3 and cursor.path[0] == "nodes" and cursor.path[2] == "inputs":
        node = node_at(flow, cursor.line)
        return [i for i in _input_key_items(flow, node, span, read, tools) if i.label not in present] if node else []
    items = []
    for key, spec in schema_properties(cursor.path).items():
        if key in present or key == "$schema":
            continue
        items.append(Item(key, "property", span, f"{key}: ", spec.get("type", "") if isinstance(spec.get("type"), str)
                          else "", spec.get("description", "")))
    if cursor.path == ("nodes",) or cursor.path == () and _last_section(text, cursor.line) == "nodes":
        items.extend(_snippets(span))
    return items


def _last_section(text: str, line: int) -> str | None:
    """The top-level key whose block is above ``line`` (a new node may go at column 0 under ``nodes:``)."""
    for raw in reversed(text.split("\n")[:line]):
        if raw and not raw[0].isspace() and not raw.startswith(("-", "#")) and ":" in raw:
            return raw.split(":")[0].strip()
    return None


def _input_key_items(flow: Flow, node: Node, span: Span, read: Reader, tools: ToolSource | None) -> list[Item]:
    signature = tool_signature(flow, node, read, tools)
    items = []
    if signature is not None:
        for param in signature.parameters:
            detail = param.annotation or ""
            if not param.required:
                detail += f" = {param.default_text}"
            items.append(Item(param.name, "field", span, f"{param.name}: ", detail.strip(),
                              signature.docstring or "", sort_text="0" if param.required else "1"))
    items.extend(Item(n, "variable", span, f"{n}: ", "template variable", sort_text="0")
                 for n in template_names(flow, node, read))
    if node.type == "llm":
        items.extend(Item(n, "field", span, f"{n}: ", "LLM parameter", LLM_PARAMETERS[n].description, sort_text="2")
                     for n in LLM_INPUTS)
    return items


def _snippets(span: Span) -> list[Item]:
    python = ("- name: ${1:my_node}\n  type: python\n  source:\n    type: code\n    path: ${2:my_node.py}\n"
              "  inputs:\n    ${3:input1}: ${4:\\${inputs.text\\}}\n")
    prompt = ("- name: ${1:my_prompt}\n  type: prompt\n  source:\n    type: code\n    path: ${2:my_prompt.jinja2}\n"
              "  inputs:\n    ${3:text}: ${4:\\${inputs.text\\}}\n")
    llm = ("- name: ${1:my_llm}\n  type: llm\n  source:\n    type: code\n    path: ${2:my_llm.jinja2}\n"
           "  inputs:\n    deployment_name: ${3:gpt-4o-mini}\n    ${4:question}: ${5:\\${inputs.question\\}}\n"
           "  connection: ${6:local}\n  api: chat\n")
    return [Item(f"new {kind} node", "snippet", span, body, f"a {kind} node", snippet=True, sort_text="9")
            for kind, body in (("python", python), ("prompt", prompt), ("llm", llm))]


def _value_items(flow: Flow, cursor: Cursor, connections: list[str], tools: ToolSource | None) -> list[Item]:
    span = Span(cursor.line, cursor.column - len(cursor.prefix), cursor.line, cursor.column)
    key, path = cursor.key, cursor.path
    values: tuple[str, ...] | list[str] = ()
    if key == "type" and path[-1:] == ("-",) or key == "type" and path[-1:] == ("node",):
        values = NODE_TYPES
    elif key == "type" and path[:1] in (("inputs",), ("outputs",)):
        values = INPUT_TYPES
    elif key == "type" and path[-1:] == ("source",):
        values = SOURCE_TYPES
    elif key == "api":
        values = ("chat", "completion")
    elif key == "connection":
        values = connections
    elif key in ("aggregation", "use_variants", "is_chat_input", "is_chat_history", "is_chat_output"):
        values = ("true", "false")
    elif path[-1:] == ("inputs",) and path[:1] in (("nodes",), ("node_variants",)):
        node = node_at(flow, cursor.line)
        tool_input = package_input(node, key, tools) if node is not None and key else None
        if tool_input is not None and tool_input.enum:  # a package tool input's allowed values
            default = tool_input.default if tool_input.has_default else None
            return [Item(str(v), "value", span, str(v), "default" if v == default else "", tool_input.description,
                         sort_text=f"{index:04}") for index, v in enumerate(tool_input.enum)]
    elif key == "tool" and path[-1:] == ("source",) and tools is not None:
        return [Item(t.id, "value", span, t.id, t.name, t.description,
                     sort_text="1" if t.package == "flowline" else "0") for t in tools().tools]
    elif key == "path" and path[-1:] == ("source",):
        folder = flow.directory
        values = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                        if p.suffix in (".py", ".jinja2", ".j2") and ".flowline" not in p.parts
                        and "__pycache__" not in p.parts)
    return [Item(v, "value", span, v) for v in values]


def complete(flow: Flow, text: str, line: int, column: int, connections: list[str] | None = None,
             read: Reader = read_disk, last_outputs: dict[str, Any] | None = None,
             tools: ToolSource | None = None) -> list[Item]:
    """Completion items at a position (0-based line, code-point column); ``last_outputs`` are the
    node outputs of the flow's last run, by node name; ``tools`` gives the package tools (for a package
    node's inputs and the ``tool:`` value)."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return []
    column = min(column, len(lines[line]))
    references = _reference_items(flow, line, column, lines[line], read, last_outputs or {})
    if references is not None:
        return references
    cursor = cursor_at(text, line, column)
    if cursor.in_value:
        return _value_items(flow, cursor, connections or [], tools)
    return _key_items(flow, cursor, text, read, tools)
