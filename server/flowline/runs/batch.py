"""Running a flow over many lines in one process: concurrent lines, isolated failures, aggregation.

Lines run as asyncio tasks, at most ``workers`` at a time (sync tools in threads, so I/O-bound
LLM calls overlap). A line that fails or exceeds ``line_timeout`` is recorded with its error and
the others go on. Aggregation nodes run once, over the lines that completed. Every finished line
is appended to the run folder at once, so nothing completed is lost if the process dies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.nodes import plain
from flowline.engine.prepare import Executable
from flowline.engine.run import resolve_flow_inputs
from flowline.engine.scheduler import COMPLETED, FAILED, run_aggregation, run_line, sum_tokens
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


class _FolderSink:
    """Writes node results and captured output of a batch into its run folder."""

    event_types = frozenset({"node_end", "log"})

    def __init__(self, folder: RunFolder) -> None:
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

    folder: RunFolder
    scheduled: bool = False

    def request(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.scheduled = False
        self.folder.flush()


async def _run_all(exe: Executable, lines: list[Line], emitter: Emitter, run_id: str, workers: int,
                   timeout: float | None, outcome: BatchOutcome, folder: RunFolder,
                   on_line: Callable[[str], None]) -> None:
    # Sync tools run in threads: as many as lines in flight, so blocking I/O tools overlap too.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=max(4, workers)))
    queue = iter(lines)
    flusher = _Flusher(folder)

    async def worker() -> None:
        for line in queue:
            await _run_one(exe, line, emitter, run_id, timeout, outcome, flusher, on_line)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(lines))))))
    if exe.aggregation_nodes and outcome.done:
        numbers = sorted(outcome.done)
        aggregated = await run_aggregation(exe, [outcome.done[n].inputs for n in numbers],
                                           [outcome.done[n].node_outputs for n in numbers], emitter, run_id)
        outcome.metrics.update(aggregated.metrics)
        outcome.aggregation_error = aggregated.error


def run_batch(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, *, workers: int = DEFAULT_WORKERS,
              line_timeout: float | None = None, previous: dict[int, Done] | None = None,
              on_line: Callable[[str], None] = lambda status: None) -> BatchOutcome:
    """Run the lines; ``previous`` holds lines completed by the run this one resumes."""
    outcome = BatchOutcome(done=dict(previous or {}))
    emitter = Emitter([_FolderSink(folder)])
    with routed_output():
        asyncio.run(_run_all(exe, lines, emitter, run_id, workers, line_timeout, outcome, folder, on_line))
    return outcome
