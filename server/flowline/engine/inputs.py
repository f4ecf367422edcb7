"""The inputs of a run: a flow's inputs with defaults and declared types, or one node's inputs.

A single-node run takes each input that references a flow input as ``inputs.<name>`` (or the node
input's name, or the flow input's bare name), and each input that references another node's output as
``<node>.output[.path]`` (the whole ``<node>.output`` does for a path too, as does the node input's
name). A value given by the node input's name is that input's value whatever else is given; an exact
``<node>.output.<path>`` is set into the whole output at that path. :func:`node_needs` says what is
still missing; the language server asks for it before it runs a node, the CLI names it
in its refusal. A reference to a node the flow does not have is no need but an error of the flow
(``unknown-node``), which ``flow test`` lists when it refuses the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowline.engine.errors import FlowRunError
from flowline.engine.image_inputs import ImageInputError, load_images, to_image
from flowline.flow.model import Flow, Node
from flowline.flow.references import Reference, Step
from flowline.flow.types import ConversionError, convert_flow_input


@dataclass(frozen=True)
class Resolved:
    """Inputs ready for a run: flow inputs, and (for one node) its dependencies' outputs."""

    flow_inputs: dict[str, Any]
    dependency_outputs: dict[str, Any]
    unknown: tuple[str, ...] = ()
    node_inputs: dict[str, Any] = field(default_factory=dict)
    """Inputs of the node given by their own name: their values as given, not read from an output."""


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


class InputTypeError(FlowRunError):
    """A flow input whose value does not match its declared type."""


def convert_input(flow: Flow, name: str, value: Any, line: int | None = None, base: Path | None = None,
                  files: bool = True) -> Any:
    """A flow input's value converted to its declared type (a usage error when it cannot be).

    ``line`` is the data line of a batch run (``None`` for a single run). A null (``None``) is
    handled as promptflow 1.18.5 handles it: for ``int`` and ``bool`` it is an
    :class:`InputTypeError` naming the input, its type and the line; for ``double`` it is NaN in a
    batch run (promptflow reads the data through pandas, which makes a null number NaN) and an
    :class:`InputTypeError` in a single run; for the other types the value stays ``None`` (promptflow
    passes a ``string`` the text ``'None'``, see docs/ARCHITECTURE.md section 10).

    An ``image`` input becomes an image, and the image dicts inside a ``list`` or ``object`` input do
    (:mod:`flowline.engine.image_inputs`); relative paths are read from ``base`` (the data file's folder
    of a batch run), else from the flow folder; with ``files`` false an image given as a path is an
    :class:`InputTypeError` (a request to ``flow serve`` must not read the server's files).
    """
    declared = flow.input(name)
    if declared is None:
        return value
    if value is None:
        if declared.type == "double" and line is not None:
            return float("nan")
        if declared.type in ("int", "bool", "double"):
            where = "" if line is None else f" in line {line} of input data"
            raise InputTypeError(f"The value for flow input '{name}'{where} does not match the expected type "
                                 f"'{declared.type}': it is null. Please change flow input type or adjust the "
                                 "input value in your input data.")
        return value
    try:
        converted = convert_flow_input(value, declared.type)
        folder = (base or flow.directory) if files else None
        if declared.type == "image":
            return to_image(converted, folder, flow.message_format)
        if declared.type in ("list", "object"):
            return load_images(converted, folder, flow.message_format)
        return converted
    except ImageInputError as exc:
        where = "" if line is None else f" in line {line} of input data"
        raise InputTypeError(f"Failed to load image for input '{name}'{where}: {exc}.") from exc
    except ConversionError as exc:
        raise InputTypeError(f"The value of flow input '{name}' is not of type {declared.type}: {exc}.") from exc


def resolve_flow_inputs(flow: Flow, given: dict[str, Any], line: int | None = None,
                        base: Path | None = None, files: bool = True) -> Resolved:
    """Defaults filled in and values converted to the declared types; missing inputs are an error.

    ``line`` is the data line of a batch run, which errors name, and ``base`` the folder its image
    paths are read from; with ``files`` false the given values' images may not be paths, while the
    flow's own defaults still read theirs from the flow folder (see :func:`convert_input`)."""
    values: dict[str, Any] = {}
    missing = []
    for item in flow.inputs:
        if item.name in given:
            values[item.name] = convert_input(flow, item.name, given[item.name], line, base, files)
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
    """The keys that may give a flow input to a single-node run, in the order they are looked up. The flow
    input's bare name counts too (converted to its declared type as ``inputs.<name>`` is); promptflow 1.18.5
    warns it is an unknown input of the node and runs with the default."""
    return f"inputs.{ref.name}", f"flow.{ref.name}", item_name, ref.name


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
        first = needs[0]
        whole = f"{first.key.split('.', 1)[0]}.output"
        alternative = (f" The whole output, as JSON, does too: --inputs {whole}='{{...}}'."
                       if first.kind == "node" and first.key != whole else "")
        raise FlowRunError(f"Required input(s) {', '.join(n.input for n in needs)} of node '{node.name}' not "
                           f"given; pass them with --inputs {first.key}=<value>.{alternative}")
    used: set[str] = set()
    flow_inputs: dict[str, Any] = {}
    by_name: dict[str, Any] = {}
    reads: dict[str, list[Reference]] = {}  # dependency -> the references that read it
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
        elif item.name in given:  # the input's own name wins over any value of the output it reads
            by_name[item.name] = given[item.name]
            used.add(item.name)
        elif not any(k in given for k in _output_keys(ref, item.name)):
            # Not a need: the node does not exist (validation says so before a CLI run).
            raise FlowRunError(f"Input '{item.name}' of node '{node.name}' references node '{ref.name}', which "
                               "the flow does not have.")
        else:
            reads.setdefault(ref.name, []).append(ref)
    outputs = {dep: _dependency_output(dep, refs, given, used) for dep, refs in reads.items()}
    rest = {k: v for k, v in given.items() if k not in used}
    flow_inputs.update(rest)
    return Resolved(flow_inputs, outputs, tuple(rest), by_name)


def _dependency_output(dep: str, refs: list[Reference], given: dict[str, Any], used: set[str]) -> Any:
    """What a dependency's output is made of for the references that read it: the whole output when given
    (``<dep>.output``; text read as JSON when a path is walked in it), with each exact
    ``<dep>.output.<path>`` set at its path (building dicts and lists where the whole output is not given)."""
    whole = f"{dep}.{refs[0].section or 'output'}"
    paths = [ref for ref in refs if ref.path and f"{whole}.{ref.path}" in given]
    value: Any = None
    if whole in given:
        used.add(whole)
        value = given[whole]
        walked = next((ref.path for ref in refs if ref.path), None)
        if isinstance(value, str) and walked is not None:
            value = _parse_whole_output(whole, value, f"{whole}.{walked}")
    for ref in paths:
        key = f"{whole}.{ref.path}"
        used.add(key)
        value = _set_path(value, ref.steps, given[key])
    return value


def _parse_whole_output(key: str, text: str, path_key: str) -> Any:
    """A whole dependency output given as text (``--inputs parent.output='{"a": 1}'``), read as JSON so
    the reference's property path can walk it; text that is not JSON is a usage error naming both forms."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FlowRunError(f"--inputs {key}: {text!r} is not JSON ({exc}); give the whole output as JSON, "
                           f"or just the value with --inputs {path_key}=<value>.") from exc


def _set_path(container: Any, steps: tuple[Step, ...], value: Any) -> Any:
    """``container`` (copied, never changed) with ``value`` at the property path ``steps``; a step that finds
    no dict (list) there makes one, keeping what the container had elsewhere."""
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    if isinstance(step, str):
        copy = dict(container) if isinstance(container, dict) else {}
        copy[step] = _set_path(copy.get(step), rest, value)
        return copy
    items = list(container) if isinstance(container, list) else []
    items.extend([None] * (step + 1 - len(items)))
    items[step] = _set_path(items[step], rest, value)
    return items
