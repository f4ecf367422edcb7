"""Checks of LLM nodes and of the connections a flow names: the model parameters, the api, the connection
(missing here, or of a type an LLM node cannot call) and the reserved template variables."""

from __future__ import annotations

from flowline.flow.builtin_tools import LLM_TOOL
from flowline.flow.checks import CheckContext, all_nodes, create_command
from flowline.flow.llm_parameters import BY_NAME as LLM_PARAMETERS
from flowline.flow.llm_parameters import LLM_CONNECTION_TYPES
from flowline.flow.model import Node, Value
from flowline.flow.problems import did_you_mean, error, replace_with_closest, warning
from flowline.flow.references import CONNECTION_FIELD
from flowline.flow.types import ConversionError, convert_flow_input


def check_connection(ctx: CheckContext, value: Value, owner: str) -> None:
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


def _check_llm_parameters(ctx: CheckContext, node: Node) -> None:
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
RESERVED_TEMPLATE_NAMES = {
    "prompt": frozenset({"template"}),
    "chat": frozenset({"connection", "prompt", "temperature", "top_p", "stream", "stop", "max_tokens",
                       "presence_penalty", "frequency_penalty", "logit_bias", "user", "function_call", "functions",
                       "tool_choice", "tools", "response_format", "seed"}),
    "completion": frozenset({"connection", "prompt", "suffix", "max_tokens", "temperature", "top_p", "n", "stream",
                             "logprobs", "echo", "stop", "presence_penalty", "frequency_penalty", "best_of",
                             "logit_bias", "user"}),
}


def check_llm_nodes(ctx: CheckContext) -> None:
    for node in all_nodes(ctx.flow):
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
        check_connection(ctx, connection, f"Node '{node.name}'")
        if node.type == "llm" or (node.source is not None and node.source.tool == LLM_TOOL):
            _check_llm_connection_type(ctx, connection, node.name)
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


def check_environment(ctx: CheckContext) -> None:
    """An environment variable that reads a field of a connection the store lacks (``${nosuch.key}``): the
    warning a node's missing connection gets, at the name (the run is refused naming the variable)."""
    for name, value in ctx.flow.environment_variables:
        match = CONNECTION_FIELD.match(value.value) if isinstance(value.value, str) else None
        if match is not None:
            check_connection(ctx, Value(match.group(1), value.name_span), f"Environment variable '{name}'")


def _check_llm_connection_type(ctx: CheckContext, value: Value, node: str) -> None:
    """An LLM node's stored connection of a type it cannot call. promptflow 1.18.5 fails the node when it loads
    the tools ("Connection type CustomConnection is not supported for LLM."); a warning, as a connection the
    store lacks is: the stored connection is this machine's, not the flow's."""
    if ctx.connection_types is None or value.reference is not None or not isinstance(value.value, str):
        return
    kind = ctx.connection_types.get(value.value)
    if kind is None or kind in LLM_CONNECTION_TYPES:
        return
    usable = sorted(name for name, t in ctx.connection_types.items() if t in LLM_CONNECTION_TYPES)
    stored = f"stored: {', '.join(usable)}" if usable else "none is stored"
    ctx.add(warning(value.span, "connection-type",
                    f"Node '{node}' uses connection '{value.value}', which has type '{kind}'; LLM nodes need an "
                    f"open_ai or azure_open_ai connection ({stored}). Name one, or create one with "
                    "`flowline connection create --file <file>.yaml`.",
                    replace_with_closest(value.span, value.value, usable), subject=value.value))
