"""Running a flow (or one node) once: inputs resolved, events emitted, result returned.

This is the engine's entry point for ``flowline flow test`` and the language server's runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import COMPLETED, FAILED, LineResult, run_aggregation, run_line, run_single_node
from flowline.flow.model import Flow, Node
from flowline.flow.types import ConversionError, convert_flow_input


@dataclass(frozen=True)
class Resolved:
    """Inputs ready for a run: flow inputs, and (for one node) its dependencies' outputs."""

    flow_inputs: dict[str, Any]
    dependency_outputs: dict[str, Any]
    unknown: tuple[str, ...] = ()


def new_run_id(flow: Flow) -> str:
    """A readable unique run id: flow folder, timestamp, random suffix."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    return f"{flow.directory.name}_{stamp}_{os.urandom(3).hex()}"


def _convert(flow: Flow, name: str, value: Any) -> Any:
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
            values[item.name] = _convert(flow, item.name, given[item.name])
        elif item.default is not None and item.default.value is not None:
            values[item.name] = _convert(flow, item.name, item.default.value)
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


def resolve_node_inputs(flow: Flow, node: Node, given: dict[str, Any]) -> Resolved:
    """Inputs of a single-node run, named by node input, ``inputs.x`` or ``<dep>.output[.path]``."""
    given = dict(given)
    flow_inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    missing = []
    for item in node.inputs:
        ref = item.value.reference
        if ref is None:
            if item.name in given:
                flow_inputs[item.name] = given.pop(item.name)
            continue
        if ref.kind == "input":
            keys = (f"inputs.{ref.name}", f"flow.{ref.name}", item.name)
            key = next((k for k in keys if k in given), None)
            declared = flow.input(ref.name)
            if key is not None:
                flow_inputs[ref.name] = _convert(flow, ref.name, given.pop(key))
            elif declared is not None and declared.default is not None and declared.default.value is not None:
                flow_inputs[ref.name] = _convert(flow, ref.name, declared.default.value)
            else:
                missing.append(item.name)
            continue
        full = f"{ref.name}.{ref.section}" + (f".{ref.path}" if ref.path else "")
        key = next((k for k in (full, item.name) if k in given), None)
        if key is None:
            missing.append(item.name)
            continue
        value = given.pop(key)
        if ref.path:
            # Rebuild just enough of the dependency's output for the property path to find the value.
            target: Any = value
            for step in reversed(ref.steps):
                target = {step: target} if isinstance(step, str) else _list_with(step, target)
            outputs[ref.name] = _merge(outputs.get(ref.name), target)
        else:
            outputs[ref.name] = value
    if missing:
        raise FlowRunError(f"Required input(s) {', '.join(missing)} of node '{node.name}' not given; pass them "
                           f"with --inputs {missing[0]}=<value> (or <node>.output=<value> for a dependency).")
    flow_inputs.update(given)
    return Resolved(flow_inputs, outputs, tuple(given))


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


@dataclass(frozen=True)
class FlowTestResult:
    """The result of a test run: status, outputs, error, and the executable that ran."""

    run_id: str
    status: str
    outputs: Any
    error: ErrorInfo | None
    failed_node: str | None
    metrics: dict[str, Any]
    duration_ms: float
    tokens: dict[str, int]


async def _run_once(exe: Executable, resolved: Resolved, node: str | None, emitter: Emitter, run_id: str) -> LineResult:
    if node is not None:
        target = next(n for n in exe.nodes if n.name == node)
        return await run_single_node(exe, target, resolved.flow_inputs, resolved.dependency_outputs, emitter, run_id)
    line = await run_line(exe, resolved.flow_inputs, emitter, run_id, 0)
    if line.status != COMPLETED or not exe.aggregation_nodes:
        return line
    node_outputs = {name: r.output for name, r in line.nodes.items()}
    aggregated = await run_aggregation(exe, [resolved.flow_inputs], [node_outputs], emitter, run_id)
    line.nodes.update(aggregated.nodes)
    line.metrics.update(aggregated.metrics)
    if aggregated.status != COMPLETED:
        return LineResult(FAILED, None, line.nodes, aggregated.error, aggregated.failed_node, line.metrics)
    return line


def flow_test(flow: Flow, given: dict[str, Any], emitter: Emitter, *, node: str | None = None,
              variant: tuple[str, str] | None = None, stray_output: IO[str] | None = None,
              options: RunOptions | None = None) -> FlowTestResult:
    """Run a flow (or one node) once. Raises :class:`FlowRunError` for bad requests or inputs."""
    started = time.perf_counter()
    if node is not None and flow.node(node) is None:
        names = ", ".join(n.name for n in flow.nodes)
        raise FlowRunError(f"The flow has no node '{node}' (nodes: {names}).")
    exe = prepare(flow, variant, only=node, options=options)
    target = next((n for n in exe.nodes if n.name == node), None)
    resolved = resolve_node_inputs(exe.flow, target, given) if target else resolve_flow_inputs(exe.flow, given)
    run_id = new_run_id(flow)
    emitter.emit(Event("run_start", run_id, node=node, start=now_iso(), inputs=to_jsonable(resolved.flow_inputs),
                       extra={"flow": str(flow.path), "unknown_inputs": list(resolved.unknown)}
                       if resolved.unknown else {"flow": str(flow.path)}))
    with routed_output(stray_output):
        line = asyncio.run(_run_once(exe, resolved, node, emitter, run_id))
    duration = round((time.perf_counter() - started) * 1000, 3)
    outputs: Any = line.outputs
    if node is not None and outputs is not None:
        outputs = outputs["output"]
    tokens = line.tokens
    emitter.emit(Event("run_end", run_id, node=node, status=line.status, end=now_iso(), duration_ms=duration,
                       output=to_jsonable(outputs), error=line.error, tokens=tokens or None,
                       extra={"failed_node": line.failed_node, "metrics": to_jsonable(line.metrics)}))
    return FlowTestResult(run_id, line.status, outputs, line.error, line.failed_node, line.metrics, duration,
                          tokens)
