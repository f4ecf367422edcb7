"""The inputs of a run: a flow's inputs with defaults and declared types, or one node's inputs.

A single-node run takes each input that references a flow input as ``inputs.<name>`` (or the node
input's name), and each input that references another node's output as ``<node>.output[.path]``
(the whole ``<node>.output`` does for a path too, as does the node input's name). :func:`node_needs`
says what is still missing; the language server asks for it before it runs a node, the CLI names it
in its refusal. A reference to a node the flow does not have is no need but an error of the flow
(``unknown-node``), which ``flow test`` lists when it refuses the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowline.engine.errors import FlowRunError
from flowline.flow.model import Flow, Node
from flowline.flow.references import Reference
from flowline.flow.types import ConversionError, convert_flow_input


@dataclass(frozen=True)
class Resolved:
    """Inputs ready for a run: flow inputs, and (for one node) its dependencies' outputs."""

    flow_inputs: dict[str, Any]
    dependency_outputs: dict[str, Any]
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Need:
    """A value a single-node run lacks: the node input, what it references, and the key that gives it."""

    input: str
    reference: str
    key: str
    kind: str
    """``input`` (a flow input without default) or ``node`` (the output of a node that did not run)."""
    type: str | None = None
    """The declared type of a flow input."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form of the language server's answer."""
        return {"input": self.input, "reference": self.reference, "key": self.key, "kind": self.kind,
                "type": self.type}


def convert_input(flow: Flow, name: str, value: Any) -> Any:
    """A flow input's value converted to its declared type (a usage error when it cannot be)."""
    declared = flow.input(name)
    if declared is None or value is None:
        return value
    try:
        return convert_flow_input(value, declared.type)
    except ConversionError as exc:
        raise FlowRunError(f"The value of flow input '{name}' is not of type {declared.type}: {exc}.") from exc


def resolve_flow_inputs(flow: Flow, given: dict[str, Any]) -> Resolved:
    """Defaults filled in and values converted to the declared types; missing inputs are an error."""
    values: dict[str, Any] = {}
    missing = []
    for item in flow.inputs:
        if item.name in given:
            values[item.name] = convert_input(flow, item.name, given[item.name])
        elif item.default is not None and item.default.value is not None:
            values[item.name] = convert_input(flow, item.name, item.default.value)
        elif item.is_chat_history:
            values[item.name] = []
        else:
            missing.append(item.name)
    if missing:
        raise FlowRunError(f"Required flow input(s) {', '.join(missing)} not given and without default; "
                           f"pass them with --inputs {missing[0]}=<value>.")
    unknown = tuple(k for k in given if flow.input(k) is None)
    values.update({k: given[k] for k in unknown})
    return Resolved(values, {}, unknown)


def _input_keys(ref: Reference, item_name: str) -> tuple[str, ...]:
    """The keys that may give a flow input to a single-node run, in the order they are looked up."""
    return f"inputs.{ref.name}", f"flow.{ref.name}", item_name


def _output_keys(ref: Reference, item_name: str) -> tuple[str, ...]:
    """The keys that may give a dependency's output: the full path, the whole output, the input's name."""
    whole = f"{ref.name}.{ref.section or 'output'}"  # ${node} is ${node.output}
    return (f"{whole}.{ref.path}" if ref.path else whole), whole, item_name


def _default(flow: Flow, name: str) -> Any:
    """A flow input's default value (``None`` when it has none)."""
    declared = flow.input(name)
    return declared.default.value if declared is not None and declared.default is not None else None


def node_needs(flow: Flow, node: Node, given: dict[str, Any]) -> list[Need]:
    """The values a run of ``node`` alone lacks, given ``given`` (variants already applied to ``flow``);
    references to nodes the flow does not have are left out (they are errors, not needs)."""
    needs = []
    for item in node.inputs:
        ref = item.value.reference
        if ref is None or (ref.kind != "input" and flow.node(ref.name) is None):
            continue
        if ref.kind == "input":
            if not any(k in given for k in _input_keys(ref, item.name)) and _default(flow, ref.name) is None:
                declared = flow.input(ref.name)
                needs.append(Need(item.name, str(item.value.value), f"inputs.{ref.name}", "input",
                                  declared.type if declared else None))
        elif not any(k in given for k in _output_keys(ref, item.name)):
            needs.append(Need(item.name, str(item.value.value), _output_keys(ref, item.name)[0], "node"))
    return needs


def resolve_node_inputs(flow: Flow, node: Node, given: dict[str, Any]) -> Resolved:
    """Inputs of a single-node run, named by node input, ``inputs.x`` or ``<dep>.output[.path]``.
    Raises :class:`FlowRunError` when values are missing or an input references a node the flow does
    not have (and no value is given for it)."""
    needs = node_needs(flow, node, given)
    if needs:
        raise FlowRunError(f"Required input(s) {', '.join(n.input for n in needs)} of node '{node.name}' not "
                           f"given; pass them with --inputs {needs[0].key}=<value>.")
    used: set[str] = set()
    flow_inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for item in node.inputs:
        ref = item.value.reference
        if ref is None:
            if item.name in given:
                flow_inputs[item.name] = given[item.name]
                used.add(item.name)
            continue
        if ref.kind == "input":
            key = next((k for k in _input_keys(ref, item.name) if k in given), None)
            if key is not None:
                used.add(key)
            value = _default(flow, ref.name) if key is None else given[key]
            flow_inputs[ref.name] = convert_input(flow, ref.name, value)
            continue
        keys = _output_keys(ref, item.name)
        key = next((k for k in keys if k in given), None)
        if key is None:  # not a need: the node does not exist (validation says so before a CLI run)
            raise FlowRunError(f"Input '{item.name}' of node '{node.name}' references node '{ref.name}', which "
                               "the flow does not have.")
        used.add(key)
        value = given[key]
        if ref.path and key != keys[1]:
            # Rebuild just enough of the dependency's output for the property path to find the value.
            for step in reversed(ref.steps):
                value = {step: value} if isinstance(step, str) else _list_with(step, value)
        outputs[ref.name] = _merge(outputs.get(ref.name), value)
    rest = {k: v for k, v in given.items() if k not in used}
    flow_inputs.update(rest)
    return Resolved(flow_inputs, outputs, tuple(rest))


def _list_with(index: int, value: Any) -> list[Any]:
    items: list[Any] = [None] * (index + 1)
    items[index] = value
    return items


def _merge(existing: Any, new: Any) -> Any:
    if isinstance(existing, dict) and isinstance(new, dict):
        merged = dict(existing)
        for key, value in new.items():
            merged[key] = _merge(merged.get(key), value)
        return merged
    return new
