"""Semantic checks of a flow: every problem Prompt flow finds at load time, and more, with positions.

Codes are stable (tests, docs and quick fixes key on them). Tool files are read with ``ast`` and
templates with Jinja2's parser; no user code is imported. This module checks the flow's structure
(names, types, references, cycles, variants, chat, includes) and runs the checks of the modules beside
it: ``validate_tools`` (sources, tools, templates) and ``validate_llm`` (LLM nodes, connections).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flowline.flow.checks import CheckContext, all_nodes
from flowline.flow.files import Reader, not_utf8, read_disk, utf8_position
from flowline.flow.model import INPUT_TYPES, NODE_TYPES, SOURCE_TYPES, Flow, Node, Value
from flowline.flow.package_tools import ToolSource
from flowline.flow.problems import Problem, did_you_mean, error, replace_with_closest, warning
from flowline.flow.references import skipped_characters
from flowline.flow.spans import Span
from flowline.flow.types import ConversionError, convert_flow_input
from flowline.flow.validate_llm import check_environment, check_llm_nodes
from flowline.flow.validate_tools import check_templates, check_tools
from flowline.flow.variants import apply_variants


def _check_types(ctx: CheckContext) -> None:
    for node in all_nodes(ctx.flow):
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


def _check_names(ctx: CheckContext) -> None:
    seen: dict[str, Node] = {}
    for node in ctx.flow.nodes:
        if node.name in seen:
            first = seen[node.name].name_span
            ctx.add(error(node.name_span, "duplicate-node",
                          f"Duplicate node name '{node.name}' (first defined at line {first.start_line + 1}); "
                          "node names must be unique."))
        else:
            seen[node.name] = node


def _check_reference(ctx: CheckContext, value: Value, owner: str, self_name: str | None) -> None:
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


def _check_references(ctx: CheckContext) -> None:
    flow = ctx.flow
    aggregation = {n.name for n in flow.nodes if n.aggregation}
    for node in all_nodes(flow):
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


def _check_cycles(ctx: CheckContext) -> None:
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


def _check_variants(ctx: CheckContext) -> None:
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


def _check_chat(ctx: CheckContext) -> None:
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


def _check_includes(ctx: CheckContext) -> None:
    for item in ctx.flow.additional_includes:
        if not isinstance(item.value, str) or not item.value:
            ctx.add(error(item.span, "include-invalid", "Each additional_includes entry must be a path."))
        elif not (ctx.flow.directory / item.value).exists():
            ctx.add(error(item.span, "include-not-found",
                          f"additional_includes entry '{item.value}' does not exist "
                          f"(paths are relative to {ctx.flow.directory})."))


def validate(flow: Flow, read: Reader = read_disk, connections: frozenset[str] | None = None,
             tools: ToolSource | None = None, connection_types: Mapping[str, str] | None = None) -> list[Problem]:
    """All problems of a flow, in source order; ``connections`` (when known) are the names that exist and
    ``connection_types`` (when known) their types by name; ``tools`` gives the package tools (default:
    :func:`~flowline.flow.package_tools.installed_tools`, which imports the registering packages; asked only
    when a node uses a package tool)."""
    ctx = CheckContext(flow, read, connections, tools=tools, connection_types=connection_types)
    ctx.problems.extend(flow.problems)
    for check in (_check_names, _check_types, _check_references, _check_cycles, check_tools, check_llm_nodes,
                  check_templates, _check_variants, _check_chat, _check_includes, check_environment):
        check(ctx)
    # What the YAML parser read up to a syntax error on a line is cut short there (`${a.output` read as `$`):
    # other problems on that line of the flow file would be about the cut, not about what the user wrote.
    broken = {p.span.start_line for p in flow.problems if p.code == "yaml-syntax" and p.file is None}
    kept = [p for p in ctx.problems if p.code == "yaml-syntax" or p.file is not None or p.span.start_line not in broken]
    return sorted(kept, key=lambda p: (str(p.file or ""), p.span))


def _first_bad_byte(path: Path) -> Span:
    """Where the first byte of a file that is not UTF-8 is (the file start when it cannot be read again)."""
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = utf8_position(data, exc.start)
        return Span(line, column, line, column + 1)
    except OSError:
        pass
    return Span(0, 0, 0, 0)


def validate_file(path: Path, with_schema: bool = False, connections: frozenset[str] | None = None,
                  connection_types: Mapping[str, str] | None = None) -> tuple[Flow, list[Problem]]:
    """Load and validate a flow file from disk; ``with_schema`` adds JSON-Schema problems."""
    from flowline.flow.build import load_flow_text

    text = read_disk(path)
    if text is None:
        flow = Flow(path)
        reason = not_utf8(path)
        if reason is not None:
            return flow, [error(_first_bad_byte(path), "flow-not-utf8", f"{path.name} {reason}.")]
        return flow, [error(Span(0, 0, 0, 0), "flow-not-found", f"Cannot read {path}: no such flow file.")]
    flow, document = load_flow_text(text, path)
    problems = validate(flow, connections=connections, connection_types=connection_types)
    if with_schema:
        from flowline.flow.schema import with_schema_problems

        problems = with_schema_problems(document.root, problems)
    return flow, problems
