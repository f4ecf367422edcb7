"""Running a flow over many lines in one process: concurrent lines, isolated failures, aggregation.

Lines run as asyncio tasks, at most ``workers`` at a time (sync tools in threads, so I/O-bound
LLM calls overlap). A line that fails or exceeds ``line_timeout`` is recorded with its error and
the others go on. Aggregation nodes run once, over the lines that completed. Every finished line
is appended to the run folder at once, so nothing completed is lost if the process dies.

A line over its time fails at its deadline, as in promptflow: its tool's thread is left behind
(daemon threads nobody joins, so a tool that never returns holds up neither the run nor the exit);
a worker process of ``--worker-processes`` that ran such a line, or that is frozen past the
deadline, is ended and another one started.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol

from flowline.engine.capture import routed_output
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, ErrorInfo, Event, now_iso, to_jsonable
from flowline.engine.image_files import run_files, writing_images
from flowline.engine.inputs import InputTypeError, resolve_flow_inputs
from flowline.engine.nodes import plain
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import CANCELED, COMPLETED, FAILED, LineResult, run_aggregation, run_line, sum_tokens
from flowline.flow.model import Flow
from flowline.runs.mapping import Line
from flowline.runs.store import RunFolder

DEFAULT_WORKERS = 16
DEFAULT_LINE_TIMEOUT = 600.0  # seconds, promptflow's default (PF_LINE_TIMEOUT_SEC)
TIMEOUT_ERROR = "LineExecutionTimeoutError"  # promptflow's error type for a line over its time
# Seconds past a line's deadline before the parent ends its worker process: the worker's own timeout
# answers first unless the whole process is frozen (a C call that holds the GIL).
GRACE = 1.0


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


class _TimedOut(Exception):
    def __init__(self, limit: float, nodes: list[str]) -> None:
        super().__init__(limit, nodes)
        self.limit, self.nodes = limit, nodes


async def _within(running: Coroutine[Any, Any, LineResult], timeout: float | None, in_flight: set[str]) -> LineResult:
    """The line's result, or :class:`_TimedOut` naming the nodes that were running at the deadline."""
    if not timeout:
        return await running
    task = asyncio.ensure_future(running)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        nodes = sorted(in_flight)  # before the cancel: canceled nodes leave the set
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise _TimedOut(timeout, nodes)
    return task.result()


class _LeavableThreads(ThreadPoolExecutor):
    """The loop's executor for sync tools: a daemon thread per call in flight (idle ones are reused).

    A ``ThreadPoolExecutor``'s threads are joined when the loop closes and again at exit, so one
    tool that never returns (a line past its deadline) would hold up the whole run. These threads
    are never joined: such a tool is left behind and ends with the process. It subclasses
    ``ThreadPoolExecutor`` only because asyncio's ``set_default_executor`` asks for one.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # that idle thread takes this job
        self._jobs.put((future, lambda: fn(*args, **kwargs)))
        if spawn:
            threading.Thread(target=self._serve, name="flowline-tool", daemon=True).start()
        return future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting node, as ThreadPoolExecutor does
                    future.set_exception(exc)
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the idle threads end; busy ones are never waited for (see the class)."""
        with self._lock:
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)


async def _run_one(exe: Executable, line: Line, emitter: Emitter, run_id: str, timeout: float | None,
                   outcome: BatchOutcome, flusher: _Flusher, on_line: Callable[[str], None]) -> None:
    folder = flusher.folder
    start, started = now_iso(), time.perf_counter()
    record: dict[str, Any] = {"line_number": line.number, "inputs": line.inputs, "start": start}
    in_flight: set[str] = set()
    try:
        flow_inputs = resolve_flow_inputs(exe.flow, line.inputs, line.number, exe.data_folder).flow_inputs
        record["inputs"] = flow_inputs
        result = await _within(run_line(exe, flow_inputs, emitter, run_id, line.number, in_flight), timeout,
                               in_flight)
    except FlowRunError as exc:
        kind = "InputTypeError" if isinstance(exc, InputTypeError) else "InputError"  # promptflow's error code
        record.update(status=FAILED, error={"type": kind, "message": str(exc)})
    except _TimedOut as exc:
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
    asyncio.get_running_loop().set_default_executor(_LeavableThreads())
    queue = iter(lines)
    flusher = _Flusher(folder)

    async def worker() -> None:
        for line in queue:
            await _run_one(exe, line, emitter, run_id, timeout, outcome, flusher, on_line)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(lines))))))


async def _aggregate(exe: Executable, emitter: Emitter, run_id: str, outcome: BatchOutcome) -> None:
    # Even when no line completed: promptflow 1.18.5 then runs the aggregation over empty lists.
    if exe.aggregation_nodes:
        numbers = sorted(outcome.done)
        aggregated = await run_aggregation(exe, [outcome.done[n].inputs for n in numbers],
                                           [outcome.done[n].node_outputs for n in numbers], emitter, run_id)
        outcome.metrics.update(aggregated.metrics)
        outcome.aggregation_error = aggregated.error


class WorkerLost(FlowRunError):
    """A worker process of ``--worker-processes`` ended before its lines did; the run cannot finish."""


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
    loop.set_default_executor(_LeavableThreads())
    inbox: asyncio.Queue[Line | None] = asyncio.Queue()

    def receive() -> None:  # a thread, so lines arrive while others run
        while True:
            try:
                line: Line | None = conn.recv()
            except (EOFError, OSError):
                line = None
            loop.call_soon_threadsafe(inbox.put_nowait, line)
            if line is None:
                return

    async def serve(line: Line) -> None:
        records, outcome = MemoryRecords(), BatchOutcome()
        emitter = Emitter([_FolderSink(records), _NodeReporter(conn)])
        await _run_one(exe, line, emitter, run_id, timeout, outcome, _Flusher(records), lambda status: None)
        conn.send(("line", line.number, records, outcome))

    threading.Thread(target=receive, daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    while (line := await inbox.get()) is not None:
        task = asyncio.ensure_future(serve(line))
        running.add(task)
        task.add_done_callback(running.discard)


@dataclass
class _Sent:
    """A line a worker process is running, as the parent knows it."""

    line: Line
    start: str
    started: float
    deadline: float
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
        self.args = (exe.flow, options, timeout, run_id, folder.path)
        self.folder, self.workers, self.timeout = folder, workers, timeout
        self.outcome, self.on_line = outcome, on_line
        self.pending: deque[Line] = deque()
        self.started: list[_Worker] = []
        # Lines that were in a process frozen past a deadline, next to others: any of them may be the
        # one that froze it, so each runs again alone, and fails if it freezes a process again.
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
            limit = self.timeout + GRACE if self.timeout else math.inf
            worker.lines[line.number] = _Sent(line, now_iso(), time.perf_counter(), time.monotonic() + limit)

    def drain(self, worker: _Worker) -> bool:
        """Take in what the worker sent; False when its pipe is closed (the process is gone)."""
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
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
        self.outcome.completed += part.completed
        self.outcome.failed += part.failed
        self.outcome.metrics.update(part.metrics)
        self.outcome.tokens = sum_tokens([self.outcome.tokens, part.tokens])
        self.outcome.done.update(part.done)
        for record in records.lines:
            self.on_line(record["status"])

    def overdue(self, sent: _Sent) -> None:
        """Record a line whose worker process was ended past its deadline, as the worker would have."""
        end = now_iso()
        for node in sorted(sent.nodes):
            self.folder.add_node(node, {"line_number": sent.line.number, "node": node, "status": CANCELED,
                                        "output": None, "start": sent.start, "end": end, "duration_ms": None})
        assert self.timeout is not None  # only lines with a deadline are overdue
        self.folder.add_line({"line_number": sent.line.number, "inputs": to_jsonable(sent.line.inputs),
                              "start": sent.start, "status": FAILED,
                              "error": timeout_error(sent.line.number, self.timeout, sorted(sent.nodes)),
                              "end": end, "duration_ms": round((time.perf_counter() - sent.started) * 1000, 3)})
        self.folder.flush()
        self.outcome.failed += 1
        self.on_line(FAILED)

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
            alone = len(worker.lines) == 1
            guilty = {s.line.number for s in late if alone or s.line.number in self.suspects}
            for sent in late:
                if sent.line.number in guilty:
                    self.overdue(sent)
                else:
                    self.suspects.add(sent.line.number)
            # The other lines start again in the next process (the new suspects alone).
            self.pending.extendleft(reversed([s.line for n, s in worker.lines.items() if n not in guilty]))
            worker.lines.clear()
        elif not open_ or not worker.process.is_alive():
            if worker.lines:
                # A worker died (a tool ended its process, a signal, no memory): its lines cannot finish.
                raise WorkerLost("A worker process stopped while it ran lines (a tool ended its process, it was "
                                 "killed, or it ran out of memory); the lines completed so far are kept.")
        elif not (worker.retiring and not worker.lines) and (worker.lines or self.pending):
            return worker
        worker.end()
        return self.start() if self.pending else None


def _run_in_processes(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, processes: int,
                      workers: int, timeout: float | None, options: RunOptions, outcome: BatchOutcome,
                      on_line: Callable[[str], None]) -> None:
    _Pool(exe, folder, run_id, workers, timeout, options, outcome, on_line).run(lines, processes)


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
    with writing_images(run_files(folder.path, exe.flow.message_format)):
        _run_batch(exe, lines, folder, run_id, workers, line_timeout, on_line, processes, options, outcome, emitter)
    return outcome


def _run_batch(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, workers: int,
               line_timeout: float | None, on_line: Callable[[str], None], processes: int,
               options: RunOptions | None, outcome: BatchOutcome, emitter: Emitter) -> None:
    if processes > 1 and lines:
        _run_in_processes(exe, lines, folder, run_id, processes, workers, line_timeout, options or RunOptions(),
                          outcome, on_line)
        with routed_output():
            asyncio.run(_aggregate(exe, emitter, run_id, outcome))
        return

    async def everything() -> None:
        await _run_lines(exe, lines, emitter, run_id, workers, line_timeout, outcome, folder, on_line)
        await _aggregate(exe, emitter, run_id, outcome)

    with routed_output():
        asyncio.run(everything())
