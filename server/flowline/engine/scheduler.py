"""The ready-set scheduler: runs a flow's nodes as soon as what they depend on is done.

Semantics follow Prompt flow: a node whose ``activate.when`` does not equal ``activate.is`` is
bypassed, and so is a node whose activate condition refers to a bypassed node, and a node without
``activate`` all of whose node references are bypassed. An input that refers to a bypassed node
is left out when the tool has a default, else passed as ``None``. A bypassed node's output is
``None``. Literal inputs that are ``""`` or null are dropped; the others are converted to the
tool's parameter type. When one node fails the line fails and the nodes still running are canceled.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flowline.connections.secrets import Secrets
from flowline.engine.capture import node_output
from flowline.engine.errors import describe
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.nodes import NodeContext, Stream, ToolExit, ToolRaised, plain
from flowline.engine.prepare import Executable
from flowline.flow.model import Node, Value
from flowline.flow.references import PropertyError, Reference, walk
from flowline.flow.types import ConversionError
from flowline.tools import metrics_sink

COMPLETED, FAILED, BYPASSED, CANCELED = "Completed", "Failed", "Bypassed", "Canceled"


class ResolutionError(Exception):
    """A reference that cannot be resolved at run time (missing input or property)."""


@dataclass
class NodeResult:
    """How one node ended."""

    name: str
    status: str
    output: Any = None
    error: ErrorInfo | None = None
    duration_ms: float = 0.0
    tokens: dict[str, int] | None = None


@dataclass
class LineResult:
    """How one line (or the aggregation step) ended."""

    status: str
    outputs: dict[str, Any] | None
    nodes: dict[str, NodeResult] = field(default_factory=dict)
    error: ErrorInfo | None = None
    failed_node: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> dict[str, int]:
        """Token usage summed over the nodes."""
        return sum_tokens(r.tokens for r in self.nodes.values())


def sum_tokens(usages: Iterable[dict[str, int] | None]) -> dict[str, int]:
    """Add token counts (``prompt``, ``completion``, ``total``)."""
    total: dict[str, int] = {}
    for usage in usages:
        for key, value in (usage or {}).items():
            total[key] = total.get(key, 0) + value
    return total


Lookup = Callable[[Reference, dict[str, Any]], Any]


def lookup_line(flow_inputs: dict[str, Any]) -> Lookup:
    """Resolve references within one line: flow inputs, and outputs of this line's nodes."""

    def lookup(ref: Reference, outputs: dict[str, Any]) -> Any:
        if ref.kind == "input":
            if ref.name not in flow_inputs:
                raise ResolutionError(f"Flow input '{ref.name}' was not given.")
            return flow_inputs[ref.name]
        if ref.name not in outputs:
            raise ResolutionError(f"Node '{ref.name}' has no output (it has not run).")
        return _walk(ref, outputs[ref.name])

    return lookup


def _walk(ref: Reference, value: Any) -> Any:
    if isinstance(value, Stream):
        if not ref.steps:
            return value.replay()
        value = value.text()
    try:
        return walk(value, ref.steps)
    except PropertyError as exc:
        raise ResolutionError(f"Invalid property '{ref.path}' when accessing the output of node "
                              f"'{ref.name}': no '{exc.args[0]}' in {type(value).__name__} value.") from exc


class _Run:
    def __init__(self, exe: Executable, nodes: tuple[Node, ...], lookup: Lookup, emitter: Emitter,
                 run_id: str, line_number: int | None, in_flight: set[str] | None = None) -> None:
        self.exe = exe
        self.in_flight = set() if in_flight is None else in_flight
        self.pending = list(nodes)
        self.names = {n.name for n in nodes}
        self.lookup = lookup
        self.emitter = emitter
        self.run_id = run_id
        self.line_number = line_number
        self.outputs: dict[str, Any] = {}
        self.bypassed: set[str] = set()
        self.results: dict[str, NodeResult] = {}
        self.metrics: dict[str, Any] = {}
        self.given: dict[str, Any] = {}  # a single-node run's inputs given by their own name, used as they are

    def emit(self, type_: str, node: str, **fields: Any) -> None:
        if self.emitter.wants(type_):
            self.emitter.emit(Event(type_, self.run_id, self.line_number, node, **fields))

    def value(self, value: Value) -> Any:
        ref = value.reference
        return value.value if ref is None else self.lookup(ref, self.outputs)

    def ready(self, node: Node) -> bool:
        return all(d in self.outputs or d in self.bypassed or d not in self.names for d in node.dependencies)

    def _is_bypassed_ref(self, value: Value) -> bool:
        ref = value.reference
        return ref is not None and ref.kind == "node" and ref.name in self.bypassed

    def bypassable(self, node: Node) -> bool:
        if node.activate is not None:
            if self._is_bypassed_ref(node.activate.when):
                return True
            return bool(self.value(node.activate.when) != node.activate.is_.value)
        refs = [i.value for i in node.inputs if i.value.reference and i.value.reference.kind == "node"]
        return bool(refs) and all(self._is_bypassed_ref(v) for v in refs)

    def inputs_for(self, node: Node) -> dict[str, Any]:
        runner = self.exe.runners[node.name]
        kwargs: dict[str, Any] = {}
        for item in node.inputs:
            value = item.value
            if item.name in self.given:
                kwargs[item.name] = self.given[item.name]
            elif value.reference is None:
                if value.value is None or value.value == "":
                    continue
                kwargs[item.name] = runner.convert_literal(node.name, item.name, value.value)
            elif self._is_bypassed_ref(value):
                if not runner.has_default(item.name):
                    kwargs[item.name] = None
            else:
                kwargs[item.name] = self.value(value)
        return kwargs

    def bypass(self, node: Node) -> None:
        self.bypassed.add(node.name)
        self.results[node.name] = NodeResult(node.name, BYPASSED)
        if self.emitter.wants("node_end"):
            stamp = now_iso()
            self.emit("node_end", node.name, status=BYPASSED, start=stamp, end=stamp, duration_ms=0.0)

    def fail_before_start(self, node: Node, exc: Exception) -> NodeResult:
        info = masked(ErrorInfo(type(exc).__name__, str(exc)), self.exe.secrets)
        result = NodeResult(node.name, FAILED, error=info)
        stamp = now_iso()
        self.emit("node_end", node.name, status=FAILED, start=stamp, end=stamp, duration_ms=0.0, error=info)
        return result

    async def run_node(self, node: Node) -> NodeResult:
        try:
            kwargs = self.inputs_for(node)
        except (ResolutionError, ConversionError) as exc:
            return self.fail_before_start(node, exc)
        # No sink of node events (a served request answered as JSON, whose only sink takes the tools' prints): no
        # timestamps, prompts or outputs in JSON form to build; prints are captured only when a sink takes them.
        listening = self.emitter.wants("node_end")
        start = now_iso() if listening else ""
        started = time.perf_counter()
        if listening and self.emitter.wants("node_start"):
            self.emit("node_start", node.name, start=start, inputs=to_jsonable(kwargs))

        def log(stream: str, line: str) -> None:
            self.emit("log", node.name, stream=stream, message=self.exe.secrets.mask(line))

        def metric(key: str, value: Any, variant_id: str | None) -> None:
            self.metrics[key] = value

        usage: list[dict[str, int]] = []
        sent: dict[str, Any] = {}  # an LLM node's prompt, shown with its end event

        def prompt_sent(prompt: Any) -> None:
            if listening:
                sent.update(prompt=to_jsonable(prompt))

        ctx = NodeContext(
            on_token=lambda text: self.emit("llm_token", node.name, message=text),
            add_usage=usage.append,
            stream=node.name in self.exe.streaming,
            untrusted=node.inputs_from_flow,
            on_prompt=prompt_sent,
        )
        capture: AbstractContextManager[None] = node_output(log) if self.emitter.wants("log") else nullcontext()
        token = metrics_sink.set(metric)
        self.in_flight.add(node.name)
        try:
            with capture:
                output = await self.exe.runners[node.name].call(kwargs, ctx)
        except asyncio.CancelledError:
            self.emit("node_end", node.name, status=CANCELED, start=start, end=now_iso(),
                      duration_ms=_ms(started))
            raise
        except Exception as exc:
            info = masked(_error_info(exc, self.exe.roots), self.exe.secrets)
            duration = _ms(started)
            tokens = sum_tokens(usage) or None
            self.emit("node_end", node.name, status=FAILED, start=start, end=now_iso(), duration_ms=duration,
                      error=info, tokens=tokens, extra=sent)
            return NodeResult(node.name, FAILED, error=info, duration_ms=duration, tokens=tokens)
        finally:
            metrics_sink.reset(token)
            self.in_flight.discard(node.name)
        duration = _ms(started)
        tokens = sum_tokens(usage) or None
        if listening:
            self.emit("node_end", node.name, status=COMPLETED, start=start, end=now_iso(), duration_ms=duration,
                      output=to_jsonable(plain(output)), tokens=tokens, extra=sent)
        return NodeResult(node.name, COMPLETED, output, duration_ms=duration, tokens=tokens)

    def bypass_ready(self) -> Node | None:
        """Bypass what can be bypassed; returns a node whose condition could not be evaluated."""
        changed = True
        while changed:
            changed = False
            for node in list(self.pending):
                if not self.ready(node):
                    continue
                try:
                    skip = self.bypassable(node)
                except ResolutionError as exc:
                    self.pending.remove(node)
                    self.results[node.name] = self.fail_before_start(node, exc)
                    return node
                if skip:
                    self.pending.remove(node)
                    self.bypass(node)
                    changed = True
        return None

    async def run(self) -> NodeResult | None:
        """Run every node; returns the first failure, if any."""
        running: dict[asyncio.Task[NodeResult], Node] = {}
        failure: NodeResult | None = None
        while True:
            broken = self.bypass_ready()
            if broken is not None:
                failure = self.results[broken.name]
                break
            ready = [n for n in self.pending if self.ready(n)]
            if len(ready) == 1 and not running:
                # One node and nothing else in flight (a chain): await it here, without a task.
                node = ready[0]
                self.pending.remove(node)
                result = await self.run_node(node)
                self.results[node.name] = result
                if result.status != COMPLETED:
                    failure = result
                    break
                self.outputs[node.name] = result.output
                continue
            for node in ready:
                self.pending.remove(node)
                running[asyncio.ensure_future(self.run_node(node))] = node
            if not running:
                break
            try:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                # The line was canceled (its time ran out): its nodes in flight end with it, not after it.
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                raise
            for task in done:
                node = running.pop(task)
                result = task.result()
                self.results[node.name] = result
                if result.status == COMPLETED:
                    self.outputs[node.name] = result.output
                elif failure is None:
                    failure = result
            if failure is not None:
                break
        if running:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            for node in running.values():
                self.results[node.name] = NodeResult(node.name, CANCELED)
        for name in self.bypassed:
            self.outputs[name] = None
        return failure


def _error_info(exc: Exception, roots: tuple[Path, ...]) -> ErrorInfo:
    """How a node's exception is shown; a tool's ``sys.exit()`` as the ``SystemExit`` it raised (its
    traceback leads to the call), with what happened and what to do as the message."""
    if isinstance(exc, ToolExit):
        return replace(describe(exc.exit, roots), message=str(exc))
    if isinstance(exc, ToolRaised):
        return replace(describe(exc.raised, roots), message=str(exc))
    return describe(exc, roots)


def masked(info: ErrorInfo, secrets: Secrets) -> ErrorInfo:
    """``info`` with the flow's secrets hidden in its message and traceback (a tool may put a key in its
    exception's text)."""
    if not secrets.values:
        return info
    return replace(info, message=secrets.mask(info.message),
                   traceback=secrets.mask(info.traceback) if info.traceback else info.traceback)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _failed(run: _Run, failure: NodeResult) -> LineResult:
    return LineResult(FAILED, None, run.results, failure.error, failure.name, run.metrics)


def flow_outputs(exe: Executable, run: _Run) -> dict[str, Any]:
    """The flow's outputs from a finished line (outputs of aggregation nodes are left out)."""
    aggregation = {n.name for n in exe.aggregation_nodes}
    joined = {name: plain(value) for name, value in run.outputs.items()}
    outputs: dict[str, Any] = {}
    for output in exe.flow.outputs:
        value = output.reference
        if value is None:
            continue
        ref = value.reference
        if ref is not None and ref.kind == "node" and ref.name in aggregation:
            continue
        outputs[output.name] = value.value if ref is None else run.lookup(ref, joined)
    return outputs


def _connection_json(value: Any) -> Any:
    if hasattr(value, "__json__"):  # a connection, which promptflow serializes too (secrets masked)
        return value.__json__()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def unserializable_output(outputs: dict[str, Any]) -> ErrorInfo | None:
    """The error of the first flow output ``json.dumps`` cannot write, or ``None``.

    promptflow 1.18.5 fails the line so, with the same type name and message (``pf flow test`` and
    ``pf run create`` alike), rather than writing the object's attributes or its ``str``.
    """
    for name, value in outputs.items():
        try:
            json.dumps(value, default=_connection_json)
        except (TypeError, ValueError) as exc:  # ValueError: a circular reference
            return ErrorInfo("FlowOutputUnserializable", (
                f"The output '{name}' for flow is incorrect. The output value is not JSON serializable. JSON dump "
                f"failed: ({type(exc).__name__}) {exc}. Please verify your flow output and make sure the value "
                "serializable."))
    return None


async def run_line(exe: Executable, flow_inputs: dict[str, Any], emitter: Emitter, run_id: str,
                   line_number: int | None = None, in_flight: set[str] | None = None) -> LineResult:
    """Run the per-line nodes of a flow for one set of (already converted) flow inputs.

    ``in_flight``, when given, holds the names of the nodes running at each moment (a line that runs
    out of time names them)."""
    run = _Run(exe, exe.line_nodes, lookup_line(flow_inputs), emitter, run_id, line_number, in_flight)
    failure = await run.run()
    if failure is not None:
        return _failed(run, failure)
    try:
        outputs = flow_outputs(exe, run)
    except ResolutionError as exc:
        error = masked(ErrorInfo("OutputError", str(exc)), exe.secrets)
        return LineResult(FAILED, None, run.results, error, None, run.metrics)
    unserializable = unserializable_output(outputs)
    if unserializable is not None:
        return LineResult(FAILED, None, run.results, unserializable, None, run.metrics)
    return LineResult(COMPLETED, outputs, run.results, metrics=run.metrics)


async def run_single_node(exe: Executable, node: Node, flow_inputs: dict[str, Any],
                          dependency_outputs: dict[str, Any], emitter: Emitter, run_id: str,
                          given: dict[str, Any] | None = None) -> LineResult:
    """Run one node alone, with its dependencies' outputs given (its activate is not evaluated); ``given``:
    inputs that reference a node, given by their own name (their values as they are)."""
    run = _Run(exe, (node,), lookup_line(flow_inputs), emitter, run_id, None)
    run.outputs.update(dependency_outputs)
    run.given.update(given or {})
    result = await run.run_node(node)
    run.results[node.name] = result
    if result.status != COMPLETED:
        return _failed(run, result)
    return LineResult(COMPLETED, {"output": plain(result.output)}, run.results, metrics=run.metrics)


def lookup_aggregation(inputs: list[dict[str, Any]], lines: list[dict[str, Any]]) -> Lookup:
    """Resolve references for aggregation nodes: per-line values become lists over the lines."""

    def lookup(ref: Reference, outputs: dict[str, Any]) -> Any:
        if ref.kind == "input":
            return [line.get(ref.name) for line in inputs]
        if ref.name in outputs:
            return _walk(ref, outputs[ref.name])
        return [_walk(ref, line.get(ref.name)) for line in lines]

    return lookup


def aggregation_reads_lines(exe: Executable) -> bool:
    """Whether some aggregation node has an input naming a per-line node's output.

    ``flow test`` runs the aggregation nodes only then, as promptflow 1.18.5 does (it runs them only
    when the line gave aggregation inputs, which are node references of aggregation nodes' inputs);
    an aggregation that reads only flow inputs is not run by a test. Batch runs always run them."""
    line_nodes = {n.name for n in exe.line_nodes}
    return any(i.value.reference is not None and i.value.reference.kind == "node"
               and i.value.reference.name in line_nodes
               for n in exe.aggregation_nodes for i in n.inputs)


async def run_aggregation(exe: Executable, inputs: list[dict[str, Any]], line_outputs: list[dict[str, Any]],
                          emitter: Emitter, run_id: str) -> LineResult:
    """Run the aggregation nodes once over the successful lines' flow inputs and node outputs."""
    run = _Run(exe, exe.aggregation_nodes, lookup_aggregation(inputs, line_outputs), emitter, run_id, None)
    failure = await run.run()
    if failure is not None:
        return _failed(run, failure)
    return LineResult(COMPLETED, {}, run.results, metrics=run.metrics)
