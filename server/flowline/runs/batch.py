"""Running a flow over many lines in one process: concurrent lines, isolated failures, aggregation.

Lines run as asyncio tasks, at most ``workers`` at a time (sync tools in threads, so I/O-bound
LLM calls overlap). A line that fails or exceeds ``line_timeout`` is recorded with its error and
the others go on. Aggregation nodes run once, over the lines that completed. Every finished line
is appended to the run folder at once, so nothing completed is lost if the process dies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.inputs import resolve_flow_inputs
from flowline.engine.nodes import plain
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import COMPLETED, FAILED, run_aggregation, run_line, sum_tokens
from flowline.flow.model import Flow
from flowline.runs.mapping import Line
from flowline.runs.store import RunFolder

DEFAULT_WORKERS = 16


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


class _FolderSink:
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


async def _run_one(exe: Executable, line: Line, emitter: Emitter, run_id: str, timeout: float | None,
                   outcome: BatchOutcome, flusher: _Flusher, on_line: Callable[[str], None]) -> None:
    folder = flusher.folder
    start, started = now_iso(), time.perf_counter()
    record: dict[str, Any] = {"line_number": line.number, "inputs": line.inputs, "start": start}
    try:
        flow_inputs = resolve_flow_inputs(exe.flow, line.inputs).flow_inputs
        record["inputs"] = flow_inputs
        running = run_line(exe, flow_inputs, emitter, run_id, line.number)
        result = await (asyncio.wait_for(running, timeout) if timeout else running)
    except FlowRunError as exc:
        record.update(status=FAILED, error={"type": "InputError", "message": str(exc)})
    except asyncio.TimeoutError:
        record.update(status=FAILED, error={"type": "LineTimeout",
                                            "message": f"Line {line.number} did not finish within {timeout} s."})
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
class _Flusher:
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


async def _run_lines(exe: Executable, lines: list[Line], emitter: Emitter, run_id: str, workers: int,
                     timeout: float | None, outcome: BatchOutcome, folder: Records,
                     on_line: Callable[[str], None]) -> None:
    # Sync tools run in threads: as many as lines in flight, so blocking I/O tools overlap too.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=max(4, workers)))
    queue = iter(lines)
    flusher = _Flusher(folder)

    async def worker() -> None:
        for line in queue:
            await _run_one(exe, line, emitter, run_id, timeout, outcome, flusher, on_line)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(lines))))))


async def _aggregate(exe: Executable, emitter: Emitter, run_id: str, outcome: BatchOutcome) -> None:
    if exe.aggregation_nodes and outcome.done:
        numbers = sorted(outcome.done)
        aggregated = await run_aggregation(exe, [outcome.done[n].inputs for n in numbers],
                                           [outcome.done[n].node_outputs for n in numbers], emitter, run_id)
        outcome.metrics.update(aggregated.metrics)
        outcome.aggregation_error = aggregated.error


# The executable of a worker process, prepared once by its initializer (one per process).
class WorkerLost(FlowRunError):
    """A worker process of ``--worker-processes`` ended before its lines did; the run cannot finish."""


_worker_state: dict[str, Any] = {}


def _init_worker(flow: Flow, options: RunOptions, workers: int, timeout: float | None, run_id: str) -> None:
    _worker_state.update(exe=prepare(flow, None, options=options), workers=workers, timeout=timeout, run_id=run_id)


def _run_chunk(lines: list[Line]) -> tuple[MemoryRecords, BatchOutcome]:
    """Run some lines in a worker process; return their records and outcome to the parent."""
    records, outcome = MemoryRecords(), BatchOutcome()
    emitter = Emitter([_FolderSink(records)])
    with routed_output():
        asyncio.run(_run_lines(_worker_state["exe"], lines, emitter, _worker_state["run_id"],
                               _worker_state["workers"], _worker_state["timeout"], outcome, records,
                               lambda status: None))
    return records, outcome


def _run_in_processes(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, processes: int,
                      workers: int, timeout: float | None, options: RunOptions, outcome: BatchOutcome,
                      on_line: Callable[[str], None]) -> None:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    size = max(1, min(200, len(lines) // (processes * 4) or 1))
    chunks = [lines[i:i + size] for i in range(0, len(lines), size)]
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                             initargs=(exe.flow, options, workers, timeout, run_id)) as pool:
        for future in as_completed([pool.submit(_run_chunk, chunk) for chunk in chunks]):
            try:
                records, part = future.result()
            except BrokenProcessPool as exc:
                # A worker died (a tool ended its process, a signal, no memory): the pool cannot go on.
                raise WorkerLost("A worker process stopped while it ran lines (a tool ended its process, it was "
                                 "killed, or it ran out of memory); the lines completed so far are kept.") from exc
            records.replay(folder)
            outcome.completed += part.completed
            outcome.failed += part.failed
            outcome.metrics.update(part.metrics)
            outcome.tokens = sum_tokens([outcome.tokens, part.tokens])
            outcome.done.update(part.done)
            for record in records.lines:
                on_line(record["status"])


def run_batch(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, *, workers: int = DEFAULT_WORKERS,
              line_timeout: float | None = None, previous: dict[int, Done] | None = None,
              on_line: Callable[[str], None] = lambda status: None, processes: int = 0,
              options: RunOptions | None = None) -> BatchOutcome:
    """Run the lines; ``previous`` holds lines completed by the run this one resumes.

    With ``processes`` > 1 the lines are shared out to that many worker processes (for CPU-bound
    tools), each running ``workers`` lines at a time; aggregation runs here, over all of them.
    """
    outcome = BatchOutcome(done=dict(previous or {}))
    emitter = Emitter([_FolderSink(folder)])
    if processes > 1 and lines:
        _run_in_processes(exe, lines, folder, run_id, processes, workers, line_timeout, options or RunOptions(),
                          outcome, on_line)
        with routed_output():
            asyncio.run(_aggregate(exe, emitter, run_id, outcome))
        return outcome

    async def everything() -> None:
        await _run_lines(exe, lines, emitter, run_id, workers, line_timeout, outcome, folder, on_line)
        await _aggregate(exe, emitter, run_id, outcome)

    with routed_output():
        asyncio.run(everything())
    return outcome
