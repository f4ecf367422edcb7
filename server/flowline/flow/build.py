"""Parsed YAML tree → :class:`Flow`. Lenient: what has the wrong shape is skipped with a problem."""

from __future__ import annotations

from pathlib import Path

from flowline.flow.model import (
    Activate,
    Flow,
    FlowInput,
    FlowOutput,
    Node,
    NodeInput,
    NodeVariants,
    Source,
    Value,
    Variant,
)
from flowline.flow.parse import Document, YMap, YNode, YScalar, YSeq, to_python
from flowline.flow.problems import Problem, error
from flowline.flow.references import parse_reference
from flowline.flow.reparse import reparse
from flowline.flow.spans import Span

NodeCache = dict[int, tuple[YNode, "Node | None", tuple[Problem, ...]]]
"""Nodes built from parsed items, by the item's identity: a re-parse after an edit keeps the items
it did not touch, so their nodes need not be built again (the item is kept, so its id stays its own)."""


class _Builder:
    def __init__(self, cache: NodeCache | None = None) -> None:
        self.problems: list[Problem] = []
        self.cache: NodeCache = cache if cache is not None else {}
        self.built: NodeCache = {}

    def expect_map(self, node: YNode | None, what: str) -> YMap | None:
        if node is None or isinstance(node, YScalar) and node.value is None:
            return None
        if isinstance(node, YMap):
            return node
        self.problems.append(error(node.span, "structure", f"{what} must be a mapping of names to definitions."))
        return None

    def expect_seq(self, node: YNode | None, what: str) -> YSeq | None:
        if node is None or isinstance(node, YScalar) and node.value is None:
            return None
        if isinstance(node, YSeq):
            return node
        self.problems.append(error(node.span, "structure", f"{what} must be a list."))
        return None

    def text(self, node: YNode | None) -> str | None:
        if isinstance(node, YScalar) and node.value is not None:
            return str(node.value)
        return None

    def flag(self, node: YNode | None) -> bool:
        return isinstance(node, YScalar) and node.value is True

    def value(self, node: YNode) -> Value:
        if isinstance(node, YScalar):
            return Value(node.value, node.span, parse_reference(node.value), node.quoted)
        return Value(to_python(node), node.span)

    def inputs(self, node: YNode | None) -> tuple[FlowInput, ...]:
        mapping = self.expect_map(node, "'inputs'")
        result = []
        for key, spec in mapping.items if mapping else ():
            name = str(key.value)
            if isinstance(spec, YMap):
                type_node = spec.get("type")
                default = spec.get("default")
                enum = spec.get("enum")
                result.append(FlowInput(
                    name=name,
                    type=self.text(type_node),
                    default=self.value(default) if default is not None else None,
                    description=self.text(spec.get("description")),
                    is_chat_input=self.flag(spec.get("is_chat_input")),
                    is_chat_history=self.flag(spec.get("is_chat_history")),
                    enum=tuple(to_python(enum)) if isinstance(enum, YSeq) else None,
                    span=Span(key.span.start_line, key.span.start_col, spec.span.end_line, spec.span.end_col),
                    name_span=key.span,
                    type_span=type_node.span if type_node is not None else key.span,
                ))
            elif isinstance(spec, YScalar) and spec.value is None:
                result.append(FlowInput(name, None, None, span=key.span, name_span=key.span, type_span=key.span))
            else:
                message = f"Flow input '{name}' must be a mapping with 'type' (and optional 'default')."
                self.problems.append(error(spec.span, "structure", message))
        return tuple(result)

    def outputs(self, node: YNode | None) -> tuple[FlowOutput, ...]:
        mapping = self.expect_map(node, "'outputs'")
        result = []
        for key, spec in mapping.items if mapping else ():
            name = str(key.value)
            if isinstance(spec, YMap):
                ref = spec.get("reference")
                result.append(FlowOutput(
                    name=name,
                    reference=self.value(ref) if ref is not None else None,
                    type=self.text(spec.get("type")),
                    description=self.text(spec.get("description")),
                    is_chat_output=self.flag(spec.get("is_chat_output")),
                    span=Span(key.span.start_line, key.span.start_col, spec.span.end_line, spec.span.end_col),
                    name_span=key.span,
                ))
            elif isinstance(spec, YScalar) and spec.value is None:
                result.append(FlowOutput(name, None, span=key.span, name_span=key.span))
            else:
                self.problems.append(error(spec.span, "structure",
                                           f"Flow output '{name}' must be a mapping with a 'reference'."))
        return tuple(result)

    def source(self, node: YNode | None) -> Source | None:
        mapping = self.expect_map(node, "'source'")
        if mapping is None:
            return None
        path, tool, kind = mapping.get("path"), mapping.get("tool"), mapping.get("type")
        return Source(
            type=self.text(kind) or "code",
            path=self.text(path),
            tool=self.text(tool),
            span=mapping.span,
            path_span=path.span if path is not None else mapping.span,
            tool_span=tool.span if tool is not None else mapping.span,
            type_span=kind.span if kind is not None else mapping.span,
        )

    def activate(self, node: YNode | None) -> Activate | None:
        mapping = self.expect_map(node, "'activate'")
        if mapping is None:
            return None
        when, is_ = mapping.get("when"), mapping.get("is")
        if when is None or is_ is None:
            missing = " and ".join(k for k, v in (("'when'", when), ("'is'", is_)) if v is None)
            self.problems.append(error(mapping.span, "activate-incomplete",
                                       f"'activate' needs both 'when' and 'is'; {missing} is missing."))
            return None
        return Activate(self.value(when), self.value(is_), mapping.span)

    def node(self, item: YNode, name: str | None = None, name_span: Span | None = None) -> Node | None:
        if not isinstance(item, YMap):
            self.problems.append(error(item.span, "structure", "Each node must be a mapping with 'name' and 'type'."))
            return None
        name_node = item.get("name")
        node_name = self.text(name_node) if name is None else name
        if node_name is None:
            self.problems.append(error(Span.point(item.span.start_line, item.span.start_col), "node-name-missing",
                                       "This node has no 'name'; add 'name: <unique name>'."))
            return None
        inputs_map = self.expect_map(item.get("inputs"), f"'inputs' of node '{node_name}'")
        type_node = item.get("type")
        api_node = item.get("api")
        connection = item.get("connection")
        return Node(
            name=node_name,
            type=self.text(type_node),
            source=self.source(item.get("source")),
            inputs=tuple(NodeInput(str(k.value), self.value(v), k.span) for k, v in inputs_map.items)
            if inputs_map else (),
            activate=self.activate(item.get("activate")),
            aggregation=self.flag(item.get("aggregation")) or self.flag(item.get("reduce")),
            use_variants=self.flag(item.get("use_variants")),
            connection=self.value(connection) if connection is not None else None,
            api=self.text(api_node),
            provider=self.text(item.get("provider")),
            module=self.text(item.get("module")),
            span=item.span,
            name_span=name_span or (name_node.span if name_node is not None else item.span),
            type_span=type_node.span if type_node is not None else item.span,
            api_span=api_node.span if api_node is not None else item.span,
        )

    def nodes(self, node: YNode | None) -> tuple[Node, ...]:
        seq = self.expect_seq(node, "'nodes'")
        result = []
        for item in seq.items if seq else ():
            known = self.cache.get(id(item))
            if known is not None and known[0] is item:
                _, made, problems = known
                self.problems.extend(problems)
            else:
                mark = len(self.problems)
                made = self.node(item)
                problems = tuple(self.problems[mark:])
            self.built[id(item)] = (item, made, problems)
            if made is not None:
                result.append(made)
        return tuple(result)

    def node_variants(self, node: YNode | None) -> tuple[NodeVariants, ...]:
        mapping = self.expect_map(node, "'node_variants'")
        result = []
        for key, spec in mapping.items if mapping else ():
            node_name = str(key.value)
            spec_map = self.expect_map(spec, f"'node_variants.{node_name}'")
            if spec_map is None:
                continue
            variants_map = self.expect_map(spec_map.get("variants"), f"'variants' of '{node_name}'")
            variants = []
            for vkey, vspec in variants_map.items if variants_map else ():
                vmap = self.expect_map(vspec, f"variant '{vkey.value}'")
                inner = vmap.get("node") if vmap else None
                if inner is None:
                    if vmap is not None:
                        message = f"Variant '{vkey.value}' of '{node_name}' needs a 'node:' definition."
                        self.problems.append(error(vkey.span, "variant-node-missing", message))
                    continue
                built = self.node(inner, name=node_name, name_span=key.span)
                if built is not None:
                    variants.append(Variant(str(vkey.value), built, vspec.span, vkey.span))
            default = spec_map.get("default_variant_id")
            result.append(NodeVariants(node_name, self.text(default), tuple(variants), spec_map.span,
                                       default.span if default is not None else key.span))
        return tuple(result)

    def environment_variables(self, node: YNode | None) -> tuple[tuple[str, Value], ...]:
        mapping = self.expect_map(node, "'environment_variables'")
        return tuple((str(k.value), self.value(v)) for k, v in mapping.items) if mapping else ()

    def includes(self, node: YNode | None) -> tuple[Value, ...]:
        seq = self.expect_seq(node, "'additional_includes'")
        return tuple(self.value(i) for i in seq.items) if seq else ()


def build_flow(root: YNode | None, path: Path, problems: tuple[Problem, ...] = (),
               cache: NodeCache | None = None) -> Flow:
    """Build the model from a parsed tree; ``problems`` (e.g. syntax errors) are carried along.

    ``cache`` (kept by the caller between versions of one file) reuses the nodes of unchanged items
    and is updated to hold this tree's nodes only.
    """
    builder = _Builder(cache)
    builder.problems.extend(problems)
    if root is None or isinstance(root, YScalar) and root.value is None:
        if not builder.problems:  # an empty file (or only comments), not one YAML could not read
            # promptflow 1.18.5 refuses it too (it reads no mapping of flow keys).
            builder.problems.append(error(Span(0, 0, 0, 0), "flow-empty", (
                f"{path.name} is empty; a flow needs 'nodes:' (each with 'name', 'type' and 'source') and usually "
                f"'inputs:' and 'outputs:'. `flowline flow init --flow <folder>` writes one to start from.")))
        return Flow(path, problems=tuple(builder.problems))
    top = builder.expect_map(root, "flow.dag.yaml")
    if top is None:
        return Flow(path, problems=tuple(builder.problems))
    description = top.get("description")
    flow = Flow(
        path=path,
        inputs=builder.inputs(top.get("inputs")),
        outputs=builder.outputs(top.get("outputs")),
        nodes=builder.nodes(top.get("nodes")),
        node_variants=builder.node_variants(top.get("node_variants")),
        environment_variables=builder.environment_variables(top.get("environment_variables")),
        additional_includes=builder.includes(top.get("additional_includes")),
        description=builder.text(description),
        message_format=builder.text(top.get("message_format")),
        problems=tuple(builder.problems),
    )
    if cache is not None:
        cache.clear()
        cache.update(builder.built)
    return flow


def load_flow_text(text: str, path: Path, previous: Document | None = None,
                   cache: NodeCache | None = None) -> tuple[Flow, Document]:
    """Parse and build a flow from text; returns the flow and the parsed document.

    ``previous`` — the parse of an earlier version of the same file — and ``cache`` (see
    :func:`build_flow`) let an edit confined to one node parse and build only that node.
    """
    document = reparse(previous, text)
    return build_flow(document.root, path, document.problems, cache), document


def resolve_flow_path(location: Path) -> Path:
    """The flow file for a folder or file argument (a folder means its flow.dag.yaml)."""
    if location.is_dir():
        for name in ("flow.dag.yaml", "flow.dag.yml"):
            if (location / name).is_file():
                return location / name
        return location / "flow.dag.yaml"
    return location

