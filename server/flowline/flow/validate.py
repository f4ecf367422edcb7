"""Semantic checks of a flow: every problem Prompt flow finds at load time, and more, with positions.

Codes are stable (tests, docs and quick fixes key on them). Tool files are read with ``ast`` and
templates with Jinja2's parser; no user code is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowline.flow.builtin_tools import LLM_TOOL
from flowline.flow.files import Reader, not_utf8, read_disk, resolve_source
from flowline.flow.llm_parameters import BY_NAME as LLM_PARAMETERS
from flowline.flow.model import INPUT_TYPES, NODE_TYPES, SOURCE_TYPES, Flow, Node, Value
from flowline.flow.package_tools import PackageTool, ToolSource
from flowline.flow.problems import Fix, Problem, did_you_mean, error, replace_with_closest, sentence, warning
from flowline.flow.references import skipped_characters
from flowline.flow.signatures import ToolSignature, read_tool_source
from flowline.flow.spans import Span
from flowline.flow.templates import TemplateError, template_position, template_variables
from flowline.flow.types import ConversionError, convert_flow_input
from flowline.flow.variants import apply_variants


def create_command(name: str) -> str:
    """The command that stores connection ``name`` (README: `flowline connection create`)."""
    return f"flowline connection create --file <file>.yaml --name {name}"


@dataclass
class _Context:
    flow: Flow
    read_file: Reader
    connections: frozenset[str] | None = None
    problems: list[Problem] = field(default_factory=list)
    files: dict[Path, str | None] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    tools: ToolSource | None = None

    def package_tool(self, node: Node) -> PackageTool | None:
        """The package tool a node's source names (the catalog is read only when a node asks)."""
        tool_id = node.source.tool if node.source is not None else None
        if not tool_id or tool_id == LLM_TOOL or node.source is None or node.source.type == "code":
            return None
        if self.tools is None:
            from flowline.flow.package_tools import installed_tools

            self.tools = installed_tools
        return self.tools().get(tool_id)

    def read(self, path: Path) -> str | None:
        """A file's text, read once per validation however many nodes use it."""
        if path not in self.files:
            self.files[path] = self.read_file(path)
        return self.files[path]

    def source_path(self, relative: str) -> Path:
        """Where a source path of the flow is, looked up once per validation (nodes share tool files)."""
        path = self.sources.get(relative)
        if path is None:
            path = self.sources[relative] = resolve_source(self.flow, relative)
        return path

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)


def _all_nodes(flow: Flow) -> Iterator[Node]:
    """The nodes (those using variants replaced by every variant's definition)."""
    for node in flow.nodes:
        if not (node.use_variants and flow.variants_of(node.name)):
            yield node
    for nv in flow.node_variants:
        for variant in nv.variants:
            yield variant.node


def _check_types(ctx: _Context) -> None:
    for node in _all_nodes(ctx.flow):
        if node.type is None:
            ctx.add(error(node.name_span, "node-type-missing",
                          f"Node '{node.name}' has no 'type'; use one of {', '.join(NODE_TYPES)}."))
        elif node.type not in NODE_TYPES:
            ctx.add(error(node.type_span, "node-type",
                          f"Unknown node type '{node.type}'.{did_you_mean(node.type, NODE_TYPES)} "
                          f"Node types are {', '.join(NODE_TYPES)}.",
                          replace_with_closest(node.type_span, node.type, NODE_TYPES)))
        if node.source is not None and node.source.type not in SOURCE_TYPES:
            ctx.add(error(node.source.span, "source-type",
                          f"Unknown source type '{node.source.type}'.{did_you_mean(node.source.type, SOURCE_TYPES)} "
                          f"Source types are {', '.join(SOURCE_TYPES)}."))
    for item in ctx.flow.inputs:
        if item.type is None:
            ctx.add(error(item.name_span, "input-type-missing",
                          f"Flow input '{item.name}' has no 'type'; use one of {', '.join(INPUT_TYPES)}."))
        elif item.type not in INPUT_TYPES:
            ctx.add(error(item.type_span, "input-type",
                          f"Unknown input type '{item.type}'.{did_you_mean(item.type, INPUT_TYPES)} "
                          f"Input types are {', '.join(INPUT_TYPES)}.",
                          replace_with_closest(item.type_span, item.type, INPUT_TYPES)))
        elif item.default is not None and item.default.value is not None:
            try:
                convert_flow_input(item.default.value, item.type)
            except ConversionError as exc:
                ctx.add(error(item.default.span, "input-default",
                              f"Default of flow input '{item.name}' is not a valid {item.type}: {exc}"))


def _check_names(ctx: _Context) -> None:
    seen: dict[str, Node] = {}
    for node in ctx.flow.nodes:
        if node.name in seen:
            first = seen[node.name].name_span
            ctx.add(error(node.name_span, "duplicate-node",
                          f"Duplicate node name '{node.name}' (first defined at line {first.start_line + 1}); "
                          "node names must be unique."))
        else:
            seen[node.name] = node


def _check_reference(ctx: _Context, value: Value, owner: str, self_name: str | None) -> None:
    ref = value.reference
    if ref is None:
        return
    flow = ctx.flow
    if ref.kind == "input":
        if flow.input(ref.name) is None:
            names = [i.name for i in flow.inputs]
            ctx.add(error(value.name_span, "unknown-input",
                          f"{owner} references unknown flow input '{ref.name}'.{did_you_mean(ref.name, names)}",
                          replace_with_closest(value.name_span, ref.name, names), subject=ref.name))
        return
    if ref.name != ref.name.strip() or not ref.name:
        ctx.add(error(value.span, "reference-syntax",
                      f"{owner}: '{value.value}' is not a valid reference; write it without spaces, "
                      "like '${node.output}' or '${inputs.name}'."))
        return
    if ref.name == self_name:
        ctx.add(error(value.name_span, "self-reference", f"Node '{self_name}' references itself."))
        return
    if flow.node(ref.name) is None:
        names = [n.name for n in flow.nodes] + ["inputs"]
        ctx.add(error(value.name_span, "unknown-node",
                      f"{owner} references unknown node '{ref.name}'.{did_you_mean(ref.name, names)}",
                      replace_with_closest(value.name_span, ref.name, [n for n in names if n != "inputs"])))
        return
    if ref.section != "output":
        if ref.section.startswith("output["):
            fixed = "${" + f"{ref.name}.output.{ref.section[len('output'):]}"
            fixed += (f".{ref.path}" if ref.path else "") + "}"
            ctx.add(error(value.span, "reference-index",
                          f"{owner}: '{value.value}' does not index the output; Prompt flow reads "
                          f"'{ref.section}' as a section name. Write '{fixed}'."))
        else:
            ctx.add(error(value.span, "reference-section",
                          f"{owner}: '{value.value}' uses section '{ref.section}'; only '.output' can be "
                          f"referenced. Write '${{{ref.name}.output{'.' + ref.path if ref.path else ''}}}'."))
        return
    leftover = skipped_characters(ref.path)
    if leftover:
        ctx.add(warning(value.span, "reference-property",
                        f"{owner}: the characters {leftover!r} in property path '{ref.path}' are ignored; "
                        "use ['key'] for keys that are not plain words."))


def _check_references(ctx: _Context) -> None:
    flow = ctx.flow
    aggregation = {n.name for n in flow.nodes if n.aggregation}
    for node in _all_nodes(flow):
        for item in node.inputs:
            _check_reference(ctx, item.value, f"Input '{item.name}' of node '{node.name}'", node.name)
        if node.activate is not None:
            _check_reference(ctx, node.activate.when, f"The activate condition of node '{node.name}'", node.name)
        for value in node.references:
            ref = value.reference
            if ref is None or ref.kind != "node" or ref.name not in aggregation or ref.name == node.name:
                continue
            is_condition = node.activate is not None and value is node.activate.when
            if not node.aggregation and not is_condition:
                ctx.add(error(value.name_span, "aggregation-reference",
                              f"Node '{node.name}' is not an aggregation node, so it cannot use the output of "
                              f"aggregation node '{ref.name}' (aggregation nodes run after all lines)."))
        when = node.activate.when.reference if node.activate else None
        if node.aggregation and when and when.kind == "node" and flow.node(when.name) and when.name not in aggregation:
            assert node.activate is not None
            ctx.add(error(node.activate.when.name_span, "aggregation-activate",
                          f"The activate condition of aggregation node '{node.name}' references "
                          f"non-aggregation node '{when.name}'; it may only use flow inputs or aggregation nodes."))
    for output in flow.outputs:
        owner = f"Output '{output.name}'"
        if output.reference is None or output.reference.value in (None, ""):
            ctx.add(error(output.name_span, "output-reference-missing",
                          f"{owner} has no reference; set 'reference: ${{node.output}}'."))
            continue
        if output.reference.reference is None:
            ctx.add(warning(output.reference.span, "output-literal",
                            f"{owner} is the literal {output.reference.value!r}, not a '${{...}}' reference."))
            continue
        _check_reference(ctx, output.reference, owner, None)
        ref = output.reference.reference
        if ref.kind == "node" and ref.name in aggregation:
            ctx.add(warning(output.reference.name_span, "output-aggregation",
                            f"{owner} references aggregation node '{ref.name}'; aggregation results are not "
                            "line outputs, so this output is left out. Use log_metric for aggregate values."))


def _check_cycles(ctx: _Context) -> None:
    nodes = {n.name: n for n in apply_variants(ctx.flow, None).nodes}
    deps = {name: {d for d in node.dependencies if d in nodes and d != name} for name, node in nodes.items()}
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(deps[name]):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    loop = " -> ".join(reversed(cycle + [dep]))
                    for member in cycle:
                        ctx.add(error(nodes[member].name_span, "cycle",
                                      f"Node '{member}' is on a dependency cycle: {loop}."))
            elif dep not in state:
                visit(dep, path)
        path.pop()
        state[name] = 2

    for name in nodes:
        if name not in state:
            visit(name, [])


def _not_utf8(ctx: _Context, node: Node, what: str) -> bool:
    """Report a source file that exists but is not UTF-8 at the node's ``path:`` (promptflow 1.18.5 fails
    such a flow only when it runs, with a ``UnicodeDecodeError``); whether it was one."""
    assert node.source is not None and node.source.path
    reason = not_utf8(ctx.source_path(node.source.path))
    if reason is not None:
        ctx.add(error(node.source.path_span, "source-not-utf8",
                      f"{what} '{node.source.path}' of node '{node.name}' {reason}."))
    return reason is not None


def _package_signature(ctx: _Context, node: Node) -> ToolSignature | None:
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
    ctx.add(error(source.tool_span, "package-tool-unknown",
                  f"Package tool '{source.tool}' of node '{node.name}' is not installed.{hint} "
                  "`flowline tool list` lists the package tools of this environment; install the package that "
                  "provides it into the interpreter that runs the flow.",
                  Fix(f"Change to '{near[0]}'", source.tool_span, near[0]) if near else None))
    return None


def _tool_for(ctx: _Context, node: Node) -> ToolSignature | None:
    """Check a python node's source file and return its single tool signature."""
    source = node.source
    if source is not None and source.type == "package":
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


def _check_connection(ctx: _Context, value: Value, owner: str) -> None:
    """A connection the store lacks is a warning, not an error: the flow is right, this machine lacks
    the connection (promptflow 1.18.5 loads such a flow and fails when the run starts:
    "ConnectionNotFoundError: Connection 'x' is not found."). The run fails at the node that uses it."""
    if ctx.connections is None or value.reference is not None or not isinstance(value.value, str):
        return
    if value.value not in ctx.connections:
        known = sorted(ctx.connections)
        hint = did_you_mean(value.value, known)
        if value.value == "local":
            hint += " The local model creates it: `flowline local-llm start`."
        ctx.add(warning(value.span, "unknown-connection",
                        f"{owner} uses connection '{value.value}', which is not created on this machine.{hint} "
                        f"Known: {', '.join(known) or 'none'}; create it with 'Flowline: Create Connection...' in "
                        f"VS Code or `{create_command(value.value)}`.",
                        replace_with_closest(value.span, value.value, known), subject=value.value))


# The ranges the OpenAI API accepts; a server may accept more, so outside them is a warning.
_LLM_RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
               "frequency_penalty": (-2.0, 2.0), "max_tokens": (1.0, float("inf")), "n": (1.0, float("inf"))}


def _check_llm_parameters(ctx: _Context, node: Node) -> None:
    """Literal model parameters of the scalar types read as the engine reads them (an error when they
    cannot be, which the run would fail on), and outside the API's range (a warning)."""
    for item in node.inputs:
        parameter = LLM_PARAMETERS.get(item.name)
        value = item.value.value
        if parameter is None or parameter.type not in ("int", "double", "bool") or item.value.reference is not None \
                or value is None or value == "":
            continue
        try:
            converted = convert_flow_input(value, parameter.type)
        except ConversionError as exc:
            ctx.add(error(item.value.span, "llm-parameter-type",
                          f"'{item.name}' of node '{node.name}' must be {_TYPE_WORDS[parameter.type]}: {exc}."))
            continue
        low, high = _LLM_RANGES.get(item.name, (float("-inf"), float("inf")))
        if not isinstance(converted, bool) and not low <= converted <= high:
            span = f"from {low:g}" + (f" to {high:g}" if high != float("inf") else " up")
            ctx.add(warning(item.value.span, "llm-parameter-range",
                            f"'{item.name}' of node '{node.name}' is {converted:g}; the OpenAI API takes {span}."))


_TYPE_WORDS = {"int": "a whole number", "double": "a number", "bool": "true or false"}

LLM_APIS = ("chat", "completion")

# Template variables promptflow 1.18.5 refuses because the node's tool has a parameter of that name
# ("NodeInputValidationError: Invalid inputs {...} in prompt template of node n. These inputs are
# duplicated with the [reserved] parameters of ..."), observed by running `pf flow test` and by
# listing the parameters of its tools: the prompt tool takes `template`; an LLM node's tool takes
# `connection` and its API's parameters. Only the names both connection types (OpenAI and Azure
# OpenAI) reserve are listed: `model`/`deployment_name` and chat's `n` depend on the connection type.
_RESERVED_TEMPLATE_NAMES = {
    "prompt": frozenset({"template"}),
    "chat": frozenset({"connection", "prompt", "temperature", "top_p", "stream", "stop", "max_tokens",
                       "presence_penalty", "frequency_penalty", "logit_bias", "user", "function_call", "functions",
                       "tool_choice", "tools", "response_format", "seed"}),
    "completion": frozenset({"connection", "prompt", "suffix", "max_tokens", "temperature", "top_p", "n", "stream",
                             "logprobs", "echo", "stop", "presence_penalty", "frequency_penalty", "best_of",
                             "logit_bias", "user"}),
}


def _check_llm_nodes(ctx: _Context) -> None:
    for node in _all_nodes(ctx.flow):
        if node.type not in ("llm", "custom_llm"):
            continue
        _check_llm_parameters(ctx, node)
        if node.api is not None and node.api not in LLM_APIS:
            # The schema says so too (at the same place, so `validate` lists it once); this check is what
            # stops `flow test` and `run create`. promptflow 1.18.5: "(APINotFound) The API
            # 'OpenAI.completion_1' is not found." when the run starts.
            ctx.add(error(node.api_span, "llm-api",
                          f"Unknown api '{node.api}' of node '{node.name}'.{did_you_mean(node.api, LLM_APIS)} "
                          f"The APIs are {', '.join(LLM_APIS)}.",
                          replace_with_closest(node.api_span, node.api, LLM_APIS)))
        item = node.input("connection")
        connection = node.connection or (item.value if item else None)
        if connection is None:
            if node.type == "llm":  # promptflow takes it at run time: `pf run create --connections n.connection=x`
                ctx.add(warning(node.name_span, "llm-connection-missing",
                                f"LLM node '{node.name}' names no connection; write 'connection: <name>' (see "
                                "`flowline connection list`) or give one when running: `flowline run create ... "
                                f"--connections {node.name}.connection=<name>`."))
            continue
        _check_connection(ctx, connection, f"Node '{node.name}'")
        model = node.input("deployment_name") or node.input("model")
        package = ctx.package_tool(node)
        if model is None and any(i.has_default for i in (package.inputs if package else ())
                                 if i.name in ("model", "deployment_name")):
            continue  # the package tool has a default model
        if model is None:
            ctx.add(error(node.name_span, "llm-model-missing",
                          f"LLM node '{node.name}' needs an input 'deployment_name' (or 'model') naming the model."))
        elif model.value.reference is None and model.value.value in ("", None):
            # A blank literal is dropped like any other (section 3), so the call would go out without a model.
            ctx.add(error(model.value.span, "llm-model-missing",
                          f"LLM node '{node.name}': '{model.name}' is empty; write the model or deployment "
                          "name the connection serves."))


def _check_tools(ctx: _Context) -> None:
    for node in _all_nodes(ctx.flow):
        signature = _tool_for(ctx, node)
        if signature is None:
            continue
        for param in signature.parameters:
            item = node.input(param.name)
            if item is not None and param.annotation and "Connection" in param.annotation:
                _check_connection(ctx, item.value, f"Input '{param.name}' of node '{node.name}'")
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



def _check_templates(ctx: _Context) -> None:
    for node in _all_nodes(ctx.flow):
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
        reserved = _RESERVED_TEMPLATE_NAMES.get(node.type if node.type == "prompt" else str(node.api or "chat"),
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


def _check_variants(ctx: _Context) -> None:
    flow = ctx.flow
    declared = {nv.node_name for nv in flow.node_variants}
    for node in flow.nodes:
        if node.use_variants and node.name not in declared:
            ctx.add(error(node.name_span, "variant-missing",
                          f"Node '{node.name}' sets 'use_variants: true' but 'node_variants' has no "
                          f"entry '{node.name}'."))
    for nv in flow.node_variants:
        if not nv.variants:
            ctx.add(error(nv.default_span, "variant-empty", f"'node_variants.{nv.node_name}' defines no variants."))
            continue
        ids = [v.id for v in nv.variants]
        if nv.default_variant_id is None:
            ctx.add(error(nv.default_span, "variant-default-missing",
                          f"'node_variants.{nv.node_name}' needs 'default_variant_id' (one of {', '.join(ids)})."))
        elif nv.default_variant_id not in ids:
            ctx.add(error(nv.default_span, "variant-default-unknown",
                          f"default_variant_id '{nv.default_variant_id}' is not a variant of "
                          f"'{nv.node_name}'.{did_you_mean(nv.default_variant_id, ids)} Variants: {', '.join(ids)}."))
        base = flow.node(nv.node_name)
        if base is None:
            names = [n.name for n in flow.nodes]
            ctx.add(error(nv.default_span, "variant-node-unknown",
                          f"'node_variants' names node '{nv.node_name}', which the flow does not have."
                          f"{did_you_mean(nv.node_name, names)}"))
        elif not base.use_variants:
            ctx.add(warning(base.name_span, "variant-unused",
                            f"Node '{base.name}' has variants but does not set 'use_variants: true'."))


def _check_chat(ctx: _Context) -> None:
    flow = ctx.flow
    chat_inputs = [i for i in flow.inputs if i.is_chat_input]
    histories = [i for i in flow.inputs if i.is_chat_history]
    chat_outputs = [o for o in flow.outputs if o.is_chat_output]
    for extra in chat_inputs[1:]:
        ctx.add(error(extra.name_span, "chat-input-multiple",
                      f"Only one input may set 'is_chat_input'; '{chat_inputs[0].name}' already does."))
    for extra in histories[1:]:
        ctx.add(error(extra.name_span, "chat-history-multiple",
                      f"Only one input may set 'is_chat_history'; '{histories[0].name}' already does."))
    for history in histories:
        if history.type not in (None, "list"):
            ctx.add(error(history.type_span, "chat-history-type",
                          f"Chat history input '{history.name}' must have type 'list'."))
    for extra_output in chat_outputs[1:]:
        ctx.add(error(extra_output.name_span, "chat-output-multiple",
                      f"Only one output may set 'is_chat_output'; '{chat_outputs[0].name}' already does."))
    if chat_inputs and not chat_outputs and flow.outputs:
        ctx.add(error(chat_inputs[0].name_span, "chat-output-missing",
                      "A chat flow (an input has 'is_chat_input: true') needs one output with "
                      "'is_chat_output: true'."))
    if chat_outputs and not chat_inputs:
        ctx.add(error(chat_outputs[0].name_span, "chat-input-missing",
                      "An output sets 'is_chat_output' but no input sets 'is_chat_input: true'."))


def _check_includes(ctx: _Context) -> None:
    for item in ctx.flow.additional_includes:
        if not isinstance(item.value, str) or not item.value:
            ctx.add(error(item.span, "include-invalid", "Each additional_includes entry must be a path."))
        elif not (ctx.flow.directory / item.value).exists():
            ctx.add(error(item.span, "include-not-found",
                          f"additional_includes entry '{item.value}' does not exist "
                          f"(paths are relative to {ctx.flow.directory})."))


def validate(flow: Flow, read: Reader = read_disk, connections: frozenset[str] | None = None,
             tools: ToolSource | None = None) -> list[Problem]:
    """All problems of a flow, in source order; ``connections`` (when known) are the names that exist;
    ``tools`` gives the package tools (default: :func:`~flowline.flow.package_tools.installed_tools`, which
    imports the registering packages; asked only when a node uses a package tool)."""
    ctx = _Context(flow, read, connections, tools=tools)
    ctx.problems.extend(flow.problems)
    for check in (_check_names, _check_types, _check_references, _check_cycles, _check_tools, _check_llm_nodes,
                  _check_templates, _check_variants, _check_chat, _check_includes):
        check(ctx)
    return sorted(ctx.problems, key=lambda p: (str(p.file or ""), p.span))


def validate_file(path: Path, with_schema: bool = False,
                  connections: frozenset[str] | None = None) -> tuple[Flow, list[Problem]]:
    """Load and validate a flow file from disk; ``with_schema`` adds JSON-Schema problems."""
    from flowline.flow.build import load_flow_text

    text = read_disk(path)
    if text is None:
        flow = Flow(path)
        reason = not_utf8(path)
        if reason is not None:
            return flow, [error(Span(0, 0, 0, 0), "flow-not-utf8", f"{path.name} {reason}.")]
        return flow, [error(Span(0, 0, 0, 0), "flow-not-found", f"Cannot read {path}: no such flow file.")]
    flow, document = load_flow_text(text, path)
    problems = validate(flow, connections=connections)
    if with_schema:
        from flowline.flow.schema import with_schema_problems

        problems = with_schema_problems(document.root, problems)
    return flow, problems
