"""Running a flow (or one node) once: inputs resolved, events emitted, result returned.

This is the engine's entry point for ``flowline flow test`` and the language server's runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import IO, Any

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, make_run_id, now_iso, to_jsonable
from flowline.engine.image_files import flow_test_files, writing_images
from flowline.engine.inputs import Resolved, resolve_flow_inputs, resolve_node_inputs
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import (
    COMPLETED,
    LineResult,
    aggregation_reads_lines,
    run_aggregation,
    run_line,
    run_single_node,
)
from flowline.engine.threads import run_interruptible
from flowline.flow.model import Flow


def new_run_id(flow: Flow) -> str:
    """A readable unique run id: flow folder, timestamp, random suffix."""
    return make_run_id(flow.directory.resolve().name)


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
    aggregation_error: ErrorInfo | None = None
    """Set when an aggregation node failed; the line still completed and its outputs stand."""
    aggregation_node: str | None = None


async def _run_once(exe: Executable, resolved: Resolved, node: str | None, emitter: Emitter,
                    run_id: str) -> tuple[LineResult, LineResult | None]:
    """The line's result, and the aggregation's when it ran. As in promptflow 1.18.5 a failing
    aggregation node does not fail the test: the line's outputs are the answer (``pf flow test``
    logs the node's error and exits 0 with them). Sync tools run on threads nobody waits for, so Ctrl-C ends
    the test at once even while a tool is still running (see :mod:`flowline.engine.threads`)."""
    if node is not None:
        target = next(n for n in exe.nodes if n.name == node)
        return await run_single_node(exe, target, resolved.flow_inputs, resolved.dependency_outputs, emitter,
                                     run_id, resolved.node_inputs), None
    line = await run_line(exe, resolved.flow_inputs, emitter, run_id, 0)
    if line.status != COMPLETED or not aggregation_reads_lines(exe):
        return line, None
    node_outputs = {name: r.output for name, r in line.nodes.items()}
    aggregated = await run_aggregation(exe, [resolved.flow_inputs], [node_outputs], emitter, run_id)
    line.nodes.update(aggregated.nodes)
    line.metrics.update(aggregated.metrics)
    return line, aggregated


def flow_test(flow: Flow, given: dict[str, Any], emitter: Emitter, *, node: str | None = None,
              variant: tuple[str, str] | None = None, stray_output: IO[str] | None = None,
              options: RunOptions | None = None) -> FlowTestResult:
    """Run a flow (or one node) once. Raises :class:`FlowRunError` for bad requests or inputs.

    The status is the line's; a failed aggregation node is reported in ``aggregation_error`` (and its
    ``node_end`` event), not as a failed run, as promptflow 1.18.5 does. The outputs are JSON values:
    images in them (and in the events) are files in the flow's ``.promptflow/output``, shown by path."""
    with writing_images(flow_test_files(flow.directory, flow.message_format)):
        return _flow_test(flow, given, emitter, node, variant, stray_output, options)


def _flow_test(flow: Flow, given: dict[str, Any], emitter: Emitter, node: str | None,
               variant: tuple[str, str] | None, stray_output: IO[str] | None,
               options: RunOptions | None) -> FlowTestResult:
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
        line, aggregated = run_interruptible(_run_once(exe, resolved, node, emitter, run_id))
    duration = round((time.perf_counter() - started) * 1000, 3)
    outputs: Any = to_jsonable(line.outputs)
    if node is not None and outputs is not None:
        outputs = outputs["output"]
    tokens = line.tokens
    emitter.emit(Event("run_end", run_id, node=node, status=line.status, end=now_iso(), duration_ms=duration,
                       output=outputs, error=line.error, tokens=tokens or None,
                       extra={"failed_node": line.failed_node, "metrics": to_jsonable(line.metrics)}))
    failed_aggregation = aggregated if aggregated is not None and aggregated.status != COMPLETED else None
    return FlowTestResult(run_id, line.status, outputs, line.error, line.failed_node, line.metrics, duration,
                          tokens, failed_aggregation.error if failed_aggregation else None,
                          failed_aggregation.failed_node if failed_aggregation else None)
