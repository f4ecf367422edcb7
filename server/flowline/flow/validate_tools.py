"""Checks of the tools nodes run: source files (found, UTF-8, Python, one ``@tool``), package tools, the
inputs a tool takes, and templates (syntax, reserved and missing variables). Files are read with ``ast``
and Jinja2's parser; no user code is imported."""

from __future__ import annotations

from flowline.flow.builtin_tools import LLM_TOOL, VISION_TOOLS, needs_prompt_message
from flowline.flow.checks import CheckContext, all_nodes
from flowline.flow.files import not_utf8
from flowline.flow.model import Node, Value
from flowline.flow.package_tools import connection_mismatch
from flowline.flow.problems import Fix, did_you_mean, error, replace_with_closest, sentence, warning
from flowline.flow.signatures import ToolSignature, read_tool_source
from flowline.flow.spans import Span
from flowline.flow.templates import TemplateError, template_position, template_variables
from flowline.flow.types import ConversionError, convert_node_input
from flowline.flow.validate_llm import RESERVED_TEMPLATE_NAMES, check_connection


def _not_utf8(ctx: CheckContext, node: Node, what: str) -> bool:
    """Report a source file that exists but is not UTF-8 at the node's ``path:`` (promptflow 1.18.5 fails
    such a flow only when it runs, with a ``UnicodeDecodeError``); whether it was one."""
    assert node.source is not None and node.source.path
    reason = not_utf8(ctx.source_path(node.source.path))
    if reason is not None:
        ctx.add(error(node.source.path_span, "source-not-utf8",
                      f"{what} '{node.source.path}' of node '{node.name}' {reason}."))
    return reason is not None


def _package_signature(ctx: CheckContext, node: Node) -> ToolSignature | None:
    """The signature of a package node's tool; an unknown tool is an error at its id naming the closest
    installed ones (promptflow 1.18.5: "PackageToolNotFoundError: Package tool 'x' is not found in the
    current environment", when the run starts)."""
    source = node.source
    assert source is not None
    if not source.tool:
        if source.type == "package":
            ctx.add(error(source.span, "source-tool-missing",
                          f"The source of node '{node.name}' needs a 'tool': the id of a package tool "
                          "(`flowline tool list` lists them)."))
        return None
    tool = ctx.package_tool(node)
    if tool is not None or source.tool == LLM_TOOL:
        return tool.signature() if tool is not None else None
    assert ctx.tools is not None
    catalog = ctx.tools()
    near = catalog.closest(source.tool)
    hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    failures = catalog.failures_for(source.tool)
    message = (f"Package tool '{source.tool}' of node '{node.name}' is not installed.{hint} `flowline tool list` "
               "lists the package tools of this environment; install the package that provides it into the "
               "interpreter that runs the flow." if failures is None else
               f"Package tool '{source.tool}' of node '{node.name}' is not among the listed tools, and listing "
               f"some package's tools failed: {failures}.{hint} Fix that package (`flowline tool list` shows the "
               "errors), or install the package that provides it into the interpreter that runs the flow.")
    ctx.add(error(source.tool_span, "package-tool-unknown", message,
                  Fix(f"Change to '{near[0]}'", source.tool_span, near[0]) if near else None))
    return None


def _tool_for(ctx: CheckContext, node: Node) -> ToolSignature | None:
    """Check a python node's source file and return its single tool signature."""
    source = node.source
    if source is not None and source.type == "package":
        if source.tool in VISION_TOOLS:  # promptflow 1.18.5 fails such a node when it runs
            ctx.add(error(source.type_span, "source-needs-prompt", needs_prompt_message(node.name, source.tool)))
        return _package_signature(ctx, node)
    if source is not None and source.type == "package_with_prompt" and source.path:
        if ctx.read(ctx.source_path(source.path)) is None and not _not_utf8(ctx, node, "Prompt file"):
            ctx.add(error(source.path_span, "source-not-found",
                          f"Prompt file '{source.path}' of node '{node.name}' was not found "
                          f"(looked for {ctx.source_path(source.path).absolute()})."))
        return _package_signature(ctx, node)
    if source is None or source.type != "code":
        if source is None and node.type == "python":
            ctx.add(error(node.name_span, "source-missing",
                          f"Node '{node.name}' has no 'source'; add 'source: {{type: code, path: <file>.py}}'."))
        return None
    if not source.path:
        ctx.add(error(source.span, "source-path-missing", f"The source of node '{node.name}' needs a 'path'."))
        return None
    path = ctx.source_path(source.path)
    text = ctx.read(path)
    if text is None and _not_utf8(ctx, node, "Source file"):
        return None
    if text is None:
        ctx.add(error(source.path_span, "source-not-found",
                      f"Source file '{source.path}' of node '{node.name}' was not found "
                      f"(looked for {path.absolute()}).",
                      subject=node.name))
        return None
    if node.type != "python":
        return None
    if path.suffix != ".py":
        ctx.add(error(source.path_span, "source-not-python",
                      f"Python node '{node.name}' must point to a .py file, not '{source.path}'."))
        return None
    tool_file = read_tool_source(text)
    if tool_file.syntax_error:
        span = tool_file.error_span or Span(0, 0, 0, 0)
        ctx.add(error(source.path_span, "tool-syntax",
                      sentence(f"'{source.path}' has a syntax error at {span.human()}: {tool_file.syntax_error}")))
        return None
    tools = tool_file.tools
    if len(tools) != 1:
        detail = ("has no function decorated with @tool" if not tools else
                  f"has {len(tools)} @tool functions ({', '.join(t.name for t in tools)}); keep exactly one")
        ctx.add(error(source.path_span, "tool-count",
                      f"'{source.path}' {detail}. Add 'from flowline import tool' (or promptflow's) "
                      "and decorate the entry function with @tool."))
        return None
    return tools[0]


def _check_connection_type(ctx: CheckContext, node: Node, value: Value, name: str) -> None:
    """A package tool's connection input naming a stored connection of a type its metadata does not list: a
    warning, as for LLM nodes (:func:`~flowline.flow.validate_llm.check_connection`), since the stored
    connection is this machine's; the run refuses the node (:func:`connection_mismatch`)."""
    tool = ctx.package_tool(node)
    tool_input = tool.input(name) if tool is not None else None
    if tool_input is None or ctx.connection_types is None or value.reference is not None \
            or not isinstance(value.value, str) or value.value not in ctx.connection_types:
        return
    mismatch = connection_mismatch(node.name, tool_input, value.value, ctx.connection_types[value.value])
    if mismatch is not None:
        ctx.add(warning(value.span, "connection-type", mismatch, subject=value.value))


# Annotations (a code tool's Python ones, a package tool's metadata types) whose literals the engine converts
# (engine/python_tool.py: convert_literal), and the flow type it converts them to.
_LITERAL_TYPES = {"int": "int", "float": "double", "double": "double", "bool": "bool", "list": "list"}


def _literal_type(annotation: str | None) -> str | None:
    """The flow type a literal for a parameter annotated ``annotation`` is converted to (``X``, ``Optional[X]``
    and ``X | None`` alike), when that conversion can fail; else ``None``."""
    text = (annotation or "").replace(" ", "").removeprefix("typing.")
    if text.startswith("Optional[") and text.endswith("]"):
        text = text[len("Optional["):-1]
    parts = [part for part in text.split("|") if part != "None"]
    return _LITERAL_TYPES.get(parts[0]) if len(parts) == 1 else None


def _check_literal(ctx: CheckContext, node: Node, name: str, annotation: str | None) -> None:
    """A literal node input the engine cannot convert to its parameter's type: the run would fail the node
    with this message (promptflow 1.18.5 fails it too when it converts the inputs). ``""`` and null are
    dropped before the tool is called, so they are not checked."""
    item = node.input(name)
    kind = _literal_type(annotation)
    if item is None or kind is None or item.value.reference is not None or item.value.value in (None, ""):
        return
    try:
        convert_node_input(node.name, name, item.value.value, kind)
    except ConversionError as exc:
        ctx.add(error(item.value.span, "input-literal-type", str(exc)))


def check_tools(ctx: CheckContext) -> None:
    for node in all_nodes(ctx.flow):
        signature = _tool_for(ctx, node)
        if signature is None:
            continue
        for param in signature.parameters:
            item = node.input(param.name)
            if item is not None and param.annotation and "Connection" in param.annotation:
                check_connection(ctx, item.value, f"Input '{param.name}' of node '{node.name}'")
                _check_connection_type(ctx, node, item.value, param.name)
            _check_literal(ctx, node, param.name, param.annotation)
        given = {i.name for i in node.inputs}
        if not signature.accepts_kwargs:
            accepted = [p.name for p in signature.parameters]
            for item in node.inputs:
                if item.name not in accepted:
                    ctx.add(error(item.key_span, "unknown-parameter",
                                  f"Tool '{signature.name}' of node '{node.name}' has no parameter "
                                  f"'{item.name}'.{did_you_mean(item.name, accepted)} "
                                  f"Parameters: {', '.join(accepted) or 'none'}.",
                                  replace_with_closest(item.key_span, item.name, accepted)))
        for param in signature.parameters:
            if param.required and param.name not in given:
                ctx.add(error(node.name_span, "missing-parameter",
                              f"Node '{node.name}' does not set required input '{param.name}' of tool "
                              f"'{signature.name}'.", subject=param.name))



def check_templates(ctx: CheckContext) -> None:
    for node in all_nodes(ctx.flow):
        if node.type not in ("prompt", "llm", "custom_llm") or node.source is None or not node.source.path:
            continue
        path = ctx.source_path(node.source.path)
        text = ctx.read(path)
        if text is None:
            continue
        try:
            variables = template_variables(text)
        except TemplateError as exc:
            ctx.add(error(node.source.path_span, "template-syntax",
                          f"Template '{node.source.path}' of node '{node.name}' {exc}"))
            continue
        reserved = RESERVED_TEMPLATE_NAMES.get(node.type if node.type == "prompt" else str(node.api or "chat"),
                                                frozenset()) if node.type in ("prompt", "llm") else frozenset()
        for name in sorted(variables & reserved):
            what = "the prompt tool" if node.type == "prompt" else f"the LLM tool's {node.api or 'chat'} API"
            ctx.add(error(template_position(text, name), "template-reserved",
                          f"Template '{node.source.path}' of node '{node.name}' uses '{{{{ {name} }}}}', but "
                          f"'{name}' is a parameter of {what}; rename the variable (and the node input that "
                          "gives it).", file=path))
        given = {i.name for i in node.inputs}
        for name in sorted(variables - given - reserved):
            ctx.add(warning(node.name_span, "template-variable",
                            f"Template '{node.source.path}' uses '{{{{ {name} }}}}' but node '{node.name}' "
                            f"has no input '{name}'; it will render as empty."))
