"""Worker processes of ``--worker-processes``: lines shared out to child processes (for CPU-bound tools).

Each worker runs its lines as :mod:`flowline.runs.lines` does and sends back the line records and the
outputs the aggregation reads. A worker that ran a line past its time, or is frozen past the deadline
(a C call that holds the GIL), is ended and another one started; so is one that died (a tool ended
it), and its line fails with promptflow's ``ProcessCrashError``; the lines that shared it run again,
each alone. A line's time starts when its worker begins it.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, Event, now_iso, to_jsonable
from flowline.engine.image_files import run_files, writing_images
from flowline.engine.inputs import resolve_flow_inputs
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import CANCELED, FAILED
from flowline.engine.threads import LeavableThreads
from flowline.flow.model import Flow
from flowline.runs.lines import (
    CRASH_ERROR,
    TIMEOUT_ERROR,
    BatchOutcome,
    Flusher,
    FolderSink,
    MemoryRecords,
    run_one,
    timeout_error,
)
from flowline.runs.mapping import Line
from flowline.runs.own_time import OwnClock, own_clock
from flowline.runs.sendable import aggregation_readers, unsendable_error
from flowline.runs.store import RunFolder

# Seconds past a line's deadline before the parent ends its worker process: the worker's own timeout
# answers first unless the whole process is frozen (a C call that holds the GIL).
GRACE = 1.0


def _crash_error(exitcode: int | None, sent: _Sent) -> dict[str, str]:
    """The error record of a line whose worker process died under it: promptflow 1.18.5's type and
    wording ("Process crashed while executing line 1"), and how the process ended."""
    if exitcode is not None and exitcode < 0:
        how = f"was ended by {signal.Signals(-exitcode).name}" if -exitcode in signal.valid_signals() else \
            f"was ended by signal {-exitcode}"
    else:
        how = f"exited with code {exitcode}" if exitcode is not None else "stopped"
    return {"type": CRASH_ERROR,
            "message": f"Process crashed while executing line {sent.line.number}: its worker process {how}."}


class _NodeReporter:
    """Tells the parent which nodes of a worker's lines are running, so that a line whose process it
    has to end (frozen past the deadline) is recorded with the node that held it."""

    event_types = frozenset({"node_start", "node_end"})

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __call__(self, event: Event) -> None:
        self.conn.send(("node", event.line_number, event.node, event.type == "node_start"))


def _serve(conn: Connection, flow: Flow, options: RunOptions, timeout: float | None, run_id: str,
           run_folder: Path) -> None:
    """A worker process: run each line the parent sends (``None``: stop) and send back its records
    (images in them written into ``run_folder``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle; it ends the workers
    exe = prepare(flow, None, options=options)
    with routed_output(), writing_images(run_files(run_folder, flow.message_format)):
        asyncio.run(_serve_lines(exe, conn, timeout, run_id))


async def _serve_lines(exe: Executable, conn: Connection, timeout: float | None, run_id: str) -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(LeavableThreads())
    inbox: asyncio.Queue[Line | None] = asyncio.Queue()
    readers = aggregation_readers(exe)

    parent = os.getppid()

    def receive() -> None:  # a thread, so lines arrive while others run
        while True:
            try:
                # The pipe's other end stays open in this process and its forked siblings, so a parent
                # that was killed shows as a new parent pid, not as the pipe's end.
                while not conn.poll(0.5):
                    if os.getppid() != parent:
                        raise EOFError
                line: Line | None = conn.recv()
            except (EOFError, OSError):
                line = None
            loop.call_soon_threadsafe(inbox.put_nowait, line)
            if line is None:
                return

    async def serve(line: Line, clock: OwnClock) -> None:
        conn.send(("start", line.number))  # its time runs from now, not from when the parent sent it
        records, outcome = MemoryRecords(), BatchOutcome()
        emitter = Emitter([FolderSink(records), _NodeReporter(conn)])
        await run_one(exe, line, emitter, run_id, timeout, outcome, Flusher(records), lambda status: None, clock)
        for done in outcome.done.values():  # only what the parent's aggregation reads is pickled
            done.node_outputs = {n: v for n, v in done.node_outputs.items() if n in readers}
        try:
            conn.send(("line", line.number, records, outcome))
        except Exception as exc:  # noqa: BLE001 - pickle's refusals have no common type; nothing was sent
            _unsendable(line.number, records, outcome, readers, exc)
            conn.send(("line", line.number, records, outcome))

    threading.Thread(target=receive, daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    async with own_clock() as clock:
        while (line := await inbox.get()) is not None:
            task = asyncio.ensure_future(serve(line, clock))
            running.add(task)
            task.add_done_callback(running.discard)


def _unsendable(number: int, records: MemoryRecords, outcome: BatchOutcome, readers: dict[str, list[str]],
                exc: Exception) -> None:
    """Fail line ``number``, whose result pickle refused, keeping only what can be sent."""
    done = outcome.done.pop(number, None)
    error = unsendable_error(number, done.node_outputs if done else {}, outcome.metrics, readers, exc)
    outcome.metrics = {}
    if done is not None:
        outcome.completed, outcome.failed = outcome.completed - 1, outcome.failed + 1
    for record in records.lines:
        record.pop("nodes", None)
        record.update(status=FAILED, error=error)


@dataclass
class _Sent:
    """A line sent to a worker process, as the parent knows it (``start``: once the worker began it)."""

    line: Line
    start: str | None = None
    started: float = 0.0
    deadline: float = math.inf  # the worker may still be starting: waiting is no part of the line's time
    nodes: set[str] = field(default_factory=set)


@dataclass
class _Worker:
    process: Any  # multiprocessing's Process of the context in use
    conn: Connection
    lines: dict[int, _Sent] = field(default_factory=dict)
    retiring: bool = False  # it left a timed-out tool running: it takes no more lines and is ended

    def end(self) -> None:
        """Ask the process to stop, end it if it does not, and wait for it."""
        try:
            self.conn.send(None)
        except OSError:
            pass  # it is gone already
        self.process.join(0.5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _Pool:
    """Worker processes, each running up to ``workers`` lines of the parent's queue at a time."""

    def __init__(self, exe: Executable, folder: RunFolder, run_id: str, workers: int, timeout: float | None,
                 options: RunOptions, outcome: BatchOutcome, on_line: Callable[[str], None]) -> None:
        self.context: Any = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.exe = exe
        self.args = (exe.flow, options, timeout, run_id, folder.path)
        self.folder, self.workers, self.timeout = folder, workers, timeout
        self.outcome, self.on_line = outcome, on_line
        self.pending: deque[Line] = deque()
        self.started: list[_Worker] = []
        # Lines that were running in a process frozen past a deadline, or one that died, next to others:
        # any of them may be the one that froze or ended it, so each runs again alone, and fails if it
        # does so again.
        self.suspects: set[int] = set()

    def start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, *self.args), name="flowline-worker")
        process.start()
        child.close()  # so the parent reads EOF when the worker is gone
        worker = _Worker(process, parent)
        self.started.append(worker)
        return worker

    def takes(self, worker: _Worker, suspect: bool) -> bool:
        if worker.retiring or len(worker.lines) >= self.workers:
            return False
        return not worker.lines if suspect else not any(n in self.suspects for n in worker.lines)

    def feed(self, pool: list[_Worker]) -> None:
        """Send the queue's lines in order, each to the least busy process that takes it."""
        while self.pending:
            line = self.pending[0]
            ready = [w for w in pool if self.takes(w, line.number in self.suspects)]
            if not ready:
                return
            worker = min(ready, key=lambda w: len(w.lines))
            self.pending.popleft()
            worker.conn.send(line)
            worker.lines[line.number] = _Sent(line)

    def drain(self, worker: _Worker) -> bool:
        """Take in what the worker sent; False when its pipe is closed (the process is gone)."""
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message[0] == "start":
                    sent = worker.lines.get(message[1])
                    if sent is not None:
                        sent.start, sent.started = now_iso(), time.perf_counter()
                        sent.deadline = time.monotonic() + (self.timeout + GRACE if self.timeout else math.inf)
                    continue
                if message[0] == "node":
                    _, number, node, started = message
                    sent = worker.lines.get(number)
                    if sent is not None:
                        (sent.nodes.add if started else sent.nodes.discard)(node)
                    continue
                _, number, records, part = message
                worker.lines.pop(number, None)
                self.merge(records, part)
                if any((r.get("error") or {}).get("type") == TIMEOUT_ERROR for r in records.lines):
                    worker.retiring = True
        except (EOFError, OSError):
            return False
        return True

    def merge(self, records: MemoryRecords, part: BatchOutcome) -> None:
        records.replay(self.folder)
        self.outcome.add(part)
        for record in records.lines:
            self.on_line(record["status"])

    def lost(self, sent: _Sent, error: dict[str, str]) -> None:
        """Record a line whose worker process ended (or was ended) while it ran, as the worker would have."""
        end = now_iso()
        start = sent.start or end
        for node in sorted(sent.nodes):
            self.folder.add_node(node, {"line_number": sent.line.number, "node": node, "status": CANCELED,
                                        "output": None, "start": start, "end": end, "duration_ms": None})
        self.folder.add_line({"line_number": sent.line.number, "inputs": to_jsonable(self.typed_inputs(sent.line)),
                              "start": start, "status": FAILED, "error": error, "end": end,
                              "duration_ms": round((time.perf_counter() - sent.started) * 1000, 3) if sent.start
                              else 0.0})
        self.folder.flush()
        self.outcome.failed += 1
        self.on_line(FAILED)

    def typed_inputs(self, line: Line) -> dict[str, Any]:
        """The line's inputs as its worker had them (converted to their types), as other lines record them."""
        try:
            return resolve_flow_inputs(self.exe.flow, line.inputs, line.number, self.exe.data_folder).flow_inputs
        except FlowRunError:
            return line.inputs  # the line failed on them before it could freeze or end its process

    def run(self, lines: list[Line], processes: int) -> None:
        self.pending.extend(lines)
        pool = [self.start() for _ in range(min(processes, len(lines)))]
        try:
            while pool:
                self.feed(pool)
                deadlines = [sent.deadline for worker in pool for sent in worker.lines.values()]
                soonest = min(deadlines, default=math.inf)
                wait([w.conn for w in pool] + [w.process.sentinel for w in pool],
                     None if soonest == math.inf else max(0.0, soonest - time.monotonic()))
                pool = [kept for kept in map(self.check, pool) if kept is not None]
        finally:  # every process started, even one started just before an error
            for worker in self.started:
                if worker.process.exitcode is None:
                    worker.end()

    def check(self, worker: _Worker) -> _Worker | None:
        """The worker to keep in its place: itself, a new one, or None once the queue is empty."""
        open_ = self.drain(worker)
        now = time.monotonic()
        late = [sent for sent in worker.lines.values() if sent.deadline <= now]
        if late:
            worker.process.kill()
            assert self.timeout is not None  # only lines with a deadline are late
            limit = self.timeout
            self.settle(worker, late, lambda s: timeout_error(s.line.number, limit, sorted(s.nodes)))
        elif not open_ or not worker.process.is_alive():
            # It died (a tool ended its process, a signal, no memory): promptflow 1.18.5 fails the line
            # with ProcessCrashError and goes on in a new process.
            worker.process.join(1.0)
            running = [s for s in worker.lines.values() if s.start is not None] or list(worker.lines.values())
            self.settle(worker, running, partial(_crash_error, worker.process.exitcode))
        elif not (worker.retiring and not worker.lines) and (worker.lines or self.pending):
            return worker
        worker.end()
        return self.start() if self.pending else None

    def settle(self, worker: _Worker, culprits: list[_Sent], error: Callable[[_Sent], dict[str, str]]) -> None:
        """Fail the line that froze or ended ``worker``'s process when it is known (it ran alone, or it is
        a suspect already); else its candidates ``culprits`` become suspects. The others run again."""
        alone = len(culprits) == 1 and sum(s.start is not None for s in worker.lines.values()) <= 1
        guilty = {s.line.number for s in culprits if alone or s.line.number in self.suspects}
        for sent in culprits:
            if sent.line.number in guilty:
                self.lost(sent, error(sent))
            else:
                self.suspects.add(sent.line.number)
        # The other lines start again in the next process (the new suspects alone).
        self.pending.extendleft(reversed([s.line for n, s in worker.lines.items() if n not in guilty]))
        worker.lines.clear()


def run_in_processes(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, processes: int,
                      workers: int, timeout: float | None, options: RunOptions, outcome: BatchOutcome,
                      on_line: Callable[[str], None]) -> None:
    _Pool(exe, folder, run_id, workers, timeout, options, outcome, on_line).run(lines, processes)
