"""Lines of a batch run in this process: concurrent lines, isolated failures, timeouts, aggregation.

Lines run as asyncio tasks, at most ``workers`` at a time (sync tools in threads, so I/O-bound LLM
calls overlap). A line that fails or exceeds its time is recorded with its error and the others go on;
a line over its time fails at its deadline, as in promptflow, and its tool's thread is left behind
(daemon threads nobody joins). A line's time is its own (``own_time``): time the whole process stood
still is not counted. Every finished line is appended to the run folder at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.inputs import InputTypeError, resolve_flow_inputs
from flowline.engine.nodes import plain
from flowline.engine.prepare import Executable
from flowline.engine.scheduler import COMPLETED, FAILED, LineResult, run_aggregation, run_line, sum_tokens
from flowline.runs.exits import running_line
from flowline.runs.mapping import Line
from flowline.runs.own_time import OwnClock, own_clock

DEFAULT_WORKERS = 16
DEFAULT_LINE_TIMEOUT = 600.0  # seconds, promptflow's default (PF_LINE_TIMEOUT_SEC)
TIMEOUT_ERROR = "LineExecutionTimeoutError"  # promptflow's error type for a line over its time
CRASH_ERROR = "ProcessCrashError"  # promptflow's error type for a line whose process died under it


@dataclass
class Done:
    """What is kept of a completed line for aggregation."""

    inputs: dict[str, Any]
    node_outputs: dict[str, Any]


@dataclass
class BatchOutcome:
    """How a batch ended."""

    completed: int = 0
    failed: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    aggregation_error: ErrorInfo | None = None
    done: dict[int, Done] = field(default_factory=dict)

    def add(self, part: BatchOutcome) -> None:
        """Count in the lines of ``part`` (run elsewhere: a worker process, a Ray worker)."""
        self.completed += part.completed
        self.failed += part.failed
        self.metrics.update(part.metrics)
        self.tokens = sum_tokens([self.tokens, part.tokens])
        self.done.update(part.done)


class Records(Protocol):
    """Where a batch puts its records: a run folder, or memory in a worker process."""

    def add_line(self, record: dict[str, Any]) -> None: ...

    def add_node(self, node: str, record: dict[str, Any]) -> None: ...

    def add_log(self, text: str) -> None: ...

    def flush(self) -> None: ...


@dataclass
class MemoryRecords:
    """Records kept in memory (a worker process sends them to the parent, which writes them)."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def add_line(self, record: dict[str, Any]) -> None:
        self.lines.append(record)

    def add_node(self, node: str, record: dict[str, Any]) -> None:
        self.nodes.append((node, record))

    def add_log(self, text: str) -> None:
        self.logs.append(text)

    def flush(self) -> None:
        pass

    def replay(self, target: Records) -> None:
        """Write everything into ``target`` (lines last, so a line is recorded after its nodes)."""
        for node, record in self.nodes:
            target.add_node(node, record)
        for text in self.logs:
            target.add_log(text)
        for record in self.lines:
            target.add_line(record)
        target.flush()


class FolderSink:
    """Writes node results and captured output of a batch into its run folder."""

    event_types = frozenset({"node_end", "log"})

    def __init__(self, folder: Records) -> None:
        self.folder = folder

    def __call__(self, event: Event) -> None:
        if event.type == "node_end":
            record = {"line_number": event.line_number, "node": event.node, "status": event.status,
                      "output": event.output, "start": event.start, "end": event.end,
                      "duration_ms": event.duration_ms}
            if event.tokens:
                record["tokens"] = event.tokens
            if event.error is not None:
                record["error"] = event.error.to_json()
            self.folder.add_node(event.node or "", record)
        elif event.type == "log":
            self.folder.add_log(f"[line {event.line_number}] [{event.node}] {event.message}")


def timeout_error(number: int, limit: float, nodes: list[str]) -> dict[str, str]:
    """The error record of line ``number`` that ran past ``limit`` seconds while ``nodes`` ran.

    promptflow 1.18.5 records ``LineExecutionTimeoutError``, "Line 1 execution timeout for exceeding
    2 seconds"; Flowline keeps the type and the wording and adds the nodes still running.
    """
    message = f"Line {number} execution timeout for exceeding {limit:g} seconds"
    if nodes:
        names = ", ".join(f"'{name}'" for name in nodes)
        message += f": node {names} was still running" if len(nodes) == 1 else f": nodes {names} were still running"
    return {"type": TIMEOUT_ERROR, "message": message + "."}


class TimedOut(Exception):
    def __init__(self, limit: float, nodes: list[str]) -> None:
        super().__init__(limit, nodes)
        self.limit, self.nodes = limit, nodes


async def within(running: Coroutine[Any, Any, LineResult], timeout: float | None, in_flight: set[str],
                  clock: OwnClock) -> LineResult:
    """The line's result, or :class:`TimedOut` naming the nodes that were running once the line had
    run ``timeout`` seconds of its own (time the whole process stood still is not the line's)."""
    if not timeout:
        return await running
    task = asyncio.ensure_future(running)
    started = clock.now()
    while (left := timeout - (clock.now() - started)) > 0:
        done, _ = await asyncio.wait({task}, timeout=left)
        if done:
            return task.result()
    if task.done():
        return task.result()
    nodes = sorted(in_flight)  # before the cancel: canceled nodes leave the set
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise TimedOut(timeout, nodes)


async def run_one(exe: Executable, line: Line, emitter: Emitter, run_id: str, timeout: float | None,
                   outcome: BatchOutcome, flusher: Flusher, on_line: Callable[[str], None], clock: OwnClock) -> None:
    folder = flusher.folder
    start, started = now_iso(), time.perf_counter()
    record: dict[str, Any] = {"line_number": line.number, "inputs": line.inputs, "start": start}
    in_flight: set[str] = set()
    running_line.set(line.number)  # this line's task (and its tools' threads) only
    try:
        flow_inputs = resolve_flow_inputs(exe.flow, line.inputs, line.number, exe.data_folder).flow_inputs
        record["inputs"] = flow_inputs
        result = await within(run_line(exe, flow_inputs, emitter, run_id, line.number, in_flight), timeout,
                               in_flight, clock)
    except FlowRunError as exc:
        kind = "InputTypeError" if isinstance(exc, InputTypeError) else "InputError"  # promptflow's error code
        record.update(status=FAILED, error={"type": kind, "message": str(exc)})
    except TimedOut as exc:
        record.update(status=FAILED, error=timeout_error(line.number, exc.limit, exc.nodes))
    else:
        record.update(status=result.status, outputs=to_jsonable(result.outputs))
        if result.error is not None:
            record["error"] = {**result.error.to_json(), "node": result.failed_node}
        tokens = result.tokens
        if tokens:
            record["tokens"] = tokens
            outcome.tokens = sum_tokens([outcome.tokens, tokens])
        outcome.metrics.update(result.metrics)
        if result.status == COMPLETED:
            node_outputs = {n: plain(r.output) for n, r in result.nodes.items()}
            outcome.done[line.number] = Done(flow_inputs, node_outputs)
            record["nodes"] = to_jsonable(node_outputs)
    record.update(inputs=to_jsonable(record["inputs"]), end=now_iso(),
                  duration_ms=round((time.perf_counter() - started) * 1000, 3))
    if record["status"] == COMPLETED:
        outcome.completed += 1
    else:
        outcome.failed += 1
    folder.add_line(record)
    flusher.request()
    on_line(record["status"])


@dataclass
class Flusher:
    """Flushes the run folder once the current scheduler step ends, however many lines finished in it:
    lines are on disk before the loop runs anything else, without a system call per line."""

    folder: Records
    scheduled: bool = False

    def request(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.scheduled = False
        self.folder.flush()


async def run_lines(exe: Executable, lines: list[Line], emitter: Emitter, run_id: str, workers: int,
                     timeout: float | None, outcome: BatchOutcome, folder: Records,
                     on_line: Callable[[str], None]) -> None:
    """Run ``lines``, ``workers`` at a time, on a loop started by ``run_interruptible``: its sync tools run on
    ``LeavableThreads``, as many threads as lines in flight, so blocking I/O tools overlap too."""
    queue = iter(lines)
    flusher = Flusher(folder)

    async def worker(clock: OwnClock) -> None:
        for line in queue:
            await run_one(exe, line, emitter, run_id, timeout, outcome, flusher, on_line, clock)

    async with own_clock() as clock:
        await asyncio.gather(*(worker(clock) for _ in range(max(1, min(workers, len(lines))))))
    if clock.stood_still >= 1:
        folder.add_log(f"The process stood still for {clock.stood_still:.1f} s (a tool's C call held the GIL, or an "
                       "async tool blocked): the lines are timed without that time, but no line could be ended "
                       "meanwhile. Run such tools with --worker-processes, where a frozen process is ended at the "
                       "line's deadline.")


async def aggregate(exe: Executable, emitter: Emitter, run_id: str, outcome: BatchOutcome) -> None:
    # Even when no line completed: promptflow 1.18.5 then runs the aggregation over empty lists.
    if exe.aggregation_nodes:
        numbers = sorted(outcome.done)
        aggregated = await run_aggregation(exe, [outcome.done[n].inputs for n in numbers],
                                           [outcome.done[n].node_outputs for n in numbers], emitter, run_id)
        outcome.metrics.update(aggregated.metrics)
        outcome.aggregation_error = aggregated.error
