"""The flow model: frozen dataclasses for what flow.dag.yaml declares, each with its source span."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from flowline.flow.problems import Problem
from flowline.flow.references import Reference
from flowline.flow.spans import NO_SPAN, Span

INPUT_TYPES = ("string", "int", "double", "bool", "list", "object", "image")
NODE_TYPES = ("python", "prompt", "llm", "custom_llm")
SOURCE_TYPES = ("code", "package", "package_with_prompt")


@dataclass(frozen=True)
class Value:
    """A value written in the flow: the Python value, its reference if it is one, and where it is."""

    value: Any
    span: Span = NO_SPAN
    reference: Reference | None = None
    quoted: bool = False

    @property
    def name_span(self) -> Span:
        """The span of the referenced name inside ``${...}`` (the whole value when not on one line)."""
        if self.reference is None or self.span.start_line != self.span.end_line:
            return self.span
        start = self.reference.name_offset + (1 if self.quoted else 0)
        return self.span.shifted(start, len(self.reference.name))


@dataclass(frozen=True)
class FlowInput:
    """A declared flow input."""

    name: str
    type: str | None
    default: Value | None
    description: str | None = None
    is_chat_input: bool = False
    is_chat_history: bool = False
    enum: tuple[Any, ...] | None = None
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN
    type_span: Span = NO_SPAN


@dataclass(frozen=True)
class FlowOutput:
    """A declared flow output; ``reference`` is what it takes its value from."""

    name: str
    reference: Value | None
    type: str | None = None
    description: str | None = None
    is_chat_output: bool = False
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN


@dataclass(frozen=True)
class Source:
    """Where a node's tool comes from: a file (``code``) or an installed package tool."""

    type: str
    path: str | None = None
    tool: str | None = None
    span: Span = NO_SPAN
    path_span: Span = NO_SPAN
    tool_span: Span = NO_SPAN
    type_span: Span = NO_SPAN


@dataclass(frozen=True)
class Activate:
    """``activate: {when, is}``: the node runs only when ``when`` equals ``is``."""

    when: Value
    is_: Value
    span: Span = NO_SPAN


@dataclass(frozen=True)
class NodeInput:
    """One entry of a node's ``inputs`` mapping."""

    name: str
    value: Value
    key_span: Span = NO_SPAN


@dataclass(frozen=True)
class Node:
    """A step of the flow."""

    name: str
    type: str | None
    source: Source | None
    inputs: tuple[NodeInput, ...] = ()
    activate: Activate | None = None
    aggregation: bool = False
    use_variants: bool = False
    connection: Value | None = None
    api: str | None = None
    provider: str | None = None
    module: str | None = None
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN
    type_span: Span = NO_SPAN
    api_span: Span = NO_SPAN

    def input(self, name: str) -> NodeInput | None:
        """The input called ``name``, if the node sets it."""
        return next((i for i in self.inputs if i.name == name), None)

    @cached_property
    def references(self) -> tuple[Value, ...]:
        """Every ``${...}`` the node uses: its inputs, then its activate condition."""
        values = [i.value for i in self.inputs if i.value.reference]
        if self.activate and self.activate.when.reference:
            values.append(self.activate.when)
        return tuple(values)

    @cached_property
    def dependencies(self) -> frozenset[str]:
        """Names of the nodes this node waits for."""
        return frozenset(v.reference.name for v in self.references
                         if v.reference and v.reference.kind == "node")

    @cached_property
    def inputs_from_flow(self) -> frozenset[str]:
        """Inputs set straight from flow inputs (user text, for the LLM role-injection defence)."""
        return frozenset(i.name for i in self.inputs if i.value.reference and i.value.reference.kind == "input")


@dataclass(frozen=True)
class Variant:
    """One alternative definition of a node."""

    id: str
    node: Node
    span: Span = NO_SPAN
    id_span: Span = NO_SPAN


@dataclass(frozen=True)
class NodeVariants:
    """The variants of one node (``node_variants.<name>``)."""

    node_name: str
    default_variant_id: str | None
    variants: tuple[Variant, ...]
    span: Span = NO_SPAN
    default_span: Span = NO_SPAN

    def variant(self, variant_id: str) -> Variant | None:
        """The variant with this id."""
        return next((v for v in self.variants if v.id == variant_id), None)


@dataclass(frozen=True)
class Flow:
    """A whole flow: what flow.dag.yaml says, where it lives, and the problems found loading it."""

    path: Path
    inputs: tuple[FlowInput, ...] = ()
    outputs: tuple[FlowOutput, ...] = ()
    nodes: tuple[Node, ...] = ()
    node_variants: tuple[NodeVariants, ...] = ()
    environment_variables: tuple[tuple[str, Value], ...] = ()
    additional_includes: tuple[Value, ...] = ()
    description: str | None = None
    message_format: str | None = None
    """How images are written in chat values: ``basic`` (the default) or ``openai-vision``."""
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def directory(self) -> Path:
        """The flow folder."""
        return self.path.parent

    @cached_property
    def _nodes_by_name(self) -> dict[str, Node]:
        by_name: dict[str, Node] = {}
        for node in self.nodes:
            by_name.setdefault(node.name, node)
        return by_name

    def node(self, name: str) -> Node | None:
        """The first node called ``name`` (looked up in a map: checks ask for every reference)."""
        return self._nodes_by_name.get(name)

    def input(self, name: str) -> FlowInput | None:
        """The flow input called ``name``."""
        return next((i for i in self.inputs if i.name == name), None)

    def variants_of(self, node_name: str) -> NodeVariants | None:
        """The ``node_variants`` entry for a node."""
        return next((v for v in self.node_variants if v.node_name == node_name), None)

    @property
    def is_chat(self) -> bool:
        """A chat flow declares a chat input."""
        return any(i.is_chat_input for i in self.inputs)
