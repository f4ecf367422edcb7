"""Batch lines on a Ray cluster (``run create --engine ray``): the same run, scaled out.

The lines are cut into tasks of ``lines_per_task``. Each Ray worker process (an actor) loads the flow once
(tools, templates, LLM clients) and runs its tasks' lines on its event loop with the local engine's line
runner, at most ``workers`` lines at a time. Results come back per task and are written to the run folder
in line order; the aggregation runs afterwards, here, as for a local run.

What reaches the workers: the flow folder with its ``additional_includes`` (a snapshot, as Ray's runtime
environment ``working_dir``), the lines in the task arguments, and the connections the flow names, in
memory (an actor's constructor arguments: never in a file, an environment variable or a log). A worker
that dies has the lines of its unfinished tasks run again on a new worker, at most :data:`RETRIES` times;
then they fail with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flowline.engine.capture import routed_output
from flowline.engine.events import Emitter
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.threads import LeavableThreads
from flowline.flow.files import include_roots
from flowline.flow.model import Flow
from flowline.runs.lines import BatchOutcome, Flusher, FolderSink, MemoryRecords, run_one
from flowline.runs.mapping import Line
from flowline.runs.own_time import OwnClock, own_clock
from flowline.runs.ray_tasks import InOrder, Task, failed_records
from flowline.runs.sendable import aggregation_readers
from flowline.runs.store import RunFolder

RETRIES = 2
"""How many times a line whose worker died running it alone runs again before it fails."""
WAIT_NOTICE = 10.0
"""Seconds to wait for the workers before saying that Ray has found no room for them yet."""
LOAD_ERROR = "PythonLoadError"  # promptflow's error type for tools that cannot load


class RayUnreachable(Exception):
    """The Ray cluster could not be reached (the message says which and why); no line ran."""


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide a run goes: ``address`` of the cluster (``None``: a Ray started on this machine for
    the run), ``workers`` worker processes, ``lines_per_task`` lines in each task."""

    address: str | None = None
    workers: int = 2
    lines_per_task: int = 50


class LineWorker:
    """One Ray worker process (made an actor by :func:`run_on_ray`, so this module imports without Ray).

    ``flow`` is the driver's (variants and connection overrides applied); its files are the runtime
    environment's working directory, which is this process's."""

    def __init__(self, flow: Flow, options: RunOptions, workers: int, timeout: float | None, run_id: str) -> None:
        here = Path.cwd()
        # Errors name the user's files where the driver has them, not this process's copy.
        self.paths = [(str(here / name), str(path)) for name, path in include_roots(flow).items()]
        self.paths.append((str(here), str(flow.directory)))
        flow = replace(flow, path=here / flow.path.name, additional_includes=())  # the snapshot has them inside
        self.routing = routed_output()
        self.routing.__enter__()  # for the life of the process: the tools' prints become their lines' logs
        self.exe = prepare(flow, None, options=options)
        self.readers = aggregation_readers(self.exe)
        self.workers, self.timeout, self.run_id = workers, timeout, run_id
        self.limit: asyncio.Semaphore | None = None
        self.clock: OwnClock | None = None
        # Kept for the life of the process: a context left to the collector closes and stops the clock's ticks.
        self.stack = contextlib.AsyncExitStack()

    async def _started(self) -> tuple[asyncio.Semaphore, OwnClock]:
        if self.limit is None or self.clock is None:
            asyncio.get_running_loop().set_default_executor(LeavableThreads())
            self.limit = asyncio.Semaphore(self.workers)
            self.clock = await self.stack.enter_async_context(own_clock())
        return self.limit, self.clock

    async def run_task(self, lines: list[Line]) -> tuple[MemoryRecords, BatchOutcome]:
        """Run ``lines`` (sharing this process's ``workers`` lines at a time with its other tasks); their
        records, and what the driver's aggregation reads of them."""
        limit, clock = await self._started()
        records, outcome = MemoryRecords(), BatchOutcome()
        emitter = Emitter([FolderSink(records)])
        flusher = Flusher(records)

        async def one(line: Line) -> None:
            async with limit:
                await run_one(self.exe, line, emitter, self.run_id, self.timeout, outcome, flusher,
                              lambda status: None, clock)

        await asyncio.gather(*(one(line) for line in lines))
        for record in [*records.lines, *(r for _, r in records.nodes)]:
            if isinstance(record.get("error"), dict):
                record["error"] = {k: self._driver_paths(v) if k in ("file", "traceback") and isinstance(v, str)
                                   else v for k, v in record["error"].items()}
        for done in outcome.done.values():
            done.node_outputs = {n: v for n, v in done.node_outputs.items() if n in self.readers}
        return records, outcome

    def _driver_paths(self, text: str) -> str:
        for copy, origin in self.paths:
            text = text.replace(copy, origin)
        return text

    def pid(self) -> int:
        """This worker's process id; the driver's first call, answered once the flow is loaded."""
        import os

        return os.getpid()


def run_on_ray(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, settings: RaySettings,
               workers: int, timeout: float | None, options: RunOptions, outcome: BatchOutcome,
               on_line: Callable[[str], None]) -> None:
    """Run ``lines`` on Ray and write their records into ``folder``; ``outcome`` gets their counts, metrics,
    tokens and what the aggregation reads. ``options.connections`` holds the flow's connections (loaded here:
    the workers have no connection store). Ctrl-C (``KeyboardInterrupt``) cancels the tasks, ends the
    workers and is raised again, the lines written so far kept. Raises ``ImportError`` without Ray.

    The run's log says how long Ray's own parts took, apart from the lines: start-up (importing Ray, staging
    the flow, reaching the cluster, starting the workers, loading the flow in them) and shut-down."""
    began = time.perf_counter()
    if settings.address:
        _answers(settings.address)  # Ray itself waits without end for an address where nothing listens
        _token_auth_when_available()  # before Ray is imported: it reads the mode once
    import ray

    from flowline.connections.secrets import flow_connections
    from flowline.connections.store import ConnectionStore

    connections = flow_connections(exe.flow, options.environment, ConnectionStore(options.home))
    options = replace(options, connections={**connections, **options.connections})
    staging = Path(tempfile.mkdtemp(prefix="flowline-ray-"))
    try:
        from flowline.serve.build import write_snapshot

        write_snapshot(exe.flow, staging / "flow")
        init: dict[str, Any] = {"runtime_env": {"working_dir": str(staging / "flow")}, "log_to_driver": False,
                                "logging_level": "ERROR", "configure_logging": False}
        # Ray prints what it notices (a worker that died) on stdout, which carries the run's record: stderr.
        with contextlib.redirect_stdout(sys.stderr):
            try:
                if settings.address:
                    ray.init(address=settings.address, **init)
                else:
                    ray.init(num_cpus=settings.workers, include_dashboard=False, **init)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {settings.address}" if settings.address else "a Ray on this machine"
                why = _last_line(exc).rstrip(".")
                hint = ("Install it where the run starts: pip install 'ray[client]'." if "ray[client]" in why else
                        "Check the address (`ray status --address ...` on the cluster) or start one with "
                        "`ray start --head`.")
                raise RayUnreachable(f"Could not reach {where}: {why}. {hint}") from None
            driver = _Driver(ray, exe, folder, run_id, settings, workers, timeout, options, outcome, on_line, began)
            try:
                driver.run(lines)
            finally:
                ending = time.perf_counter()
                driver.end_workers()
                ray.shutdown()
                folder.add_log(f"ray: shut down in {time.perf_counter() - ending:.2f} s")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _answers(address: str) -> None:
    """Raise :class:`RayUnreachable` at once when nothing accepts a connection at ``address`` (``host:port``
    or ``ray://host:port``; other forms are left to Ray)."""
    import socket

    if address.startswith(("http://", "https://")):
        raise RayUnreachable(f"{address} is a Ray dashboard or job address; --ray-address takes the cluster's own "
                             "address: host:6379 (the head's GCS port) or ray://host:10001 (Ray Client).")
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=5):
            pass
    except OSError as exc:
        raise RayUnreachable(f"Could not reach the Ray cluster at {address}: {exc.strerror or exc}. Check the address "
                             "(`ray status` on the cluster prints it) or start one with `ray start --head`.") from None


def _token_auth_when_available() -> None:
    """Use Ray's token authentication when a token is at hand: `ray start --head` turns it on and saves its
    token in ~/.ray/auth_token, but a process connecting to that cluster sends it only with
    ``RAY_AUTH_MODE=token`` (a mode set by the user is kept)."""
    import os

    if "RAY_AUTH_MODE" not in os.environ and (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                                              or (Path.home() / ".ray" / "auth_token").is_file()):
        os.environ["RAY_AUTH_MODE"] = "token"


class _Driver:
    """Hands tasks to the workers, keeps each worker's lines in flight full, replaces a worker that died."""

    def __init__(self, ray: Any, exe: Executable, folder: RunFolder, run_id: str, settings: RaySettings, workers: int,
                 timeout: float | None, options: RunOptions, outcome: BatchOutcome,
                 on_line: Callable[[str], None], began: float) -> None:
        self.began = began
        self.ray = ray
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0)(LineWorker)
        self.args = (exe.flow, replace(options, home=None, data_folder=None), workers, timeout, run_id)
        self.settings = settings
        self.writer = InOrder(folder, outcome)
        self.on_line = on_line
        # Tasks queued per worker: enough that its `workers` lines in flight never wait for the next task.
        self.depth = math.ceil(workers / settings.lines_per_task) + 1
        self.actors: list[Any] = []
        self.cannot_load: str | None = None  # why the workers cannot load the flow (then every line fails so)

    def run(self, lines: list[Line]) -> None:
        size = self.settings.lines_per_task
        pending = deque(Task(i, lines[start:start + size]) for i, start in enumerate(range(0, len(lines), size)))
        self.actors = [self.actor_class.remote(*self.args) for _ in range(min(self.settings.workers, len(pending)))]
        self._note_ready()
        load = [0] * len(self.actors)
        alone = [False] * len(self.actors)  # the slot runs a line alone: nothing else goes there meanwhile
        running: dict[Any, tuple[int, Any, Task]] = {}
        try:
            while pending or running:
                while pending and self.cannot_load is not None:
                    task = pending.popleft()
                    self._arrived(task, *failed_records(task, self.cannot_load, LOAD_ERROR))
                for slot, actor in enumerate(self.actors):
                    # A line to run alone waits for a worker with nothing else; the others wait behind it.
                    while (pending and not alone[slot] and load[slot] < self.depth
                           and (not pending[0].alone or load[slot] == 0)):
                        task = pending.popleft()
                        running[actor.run_task.remote(task.lines)] = (slot, actor, task)
                        load[slot] += 1
                        alone[slot] = task.alone
                if not running:
                    continue
                ready, _ = self.ray.wait(list(running), num_returns=1)
                for ref in ready:
                    slot, actor, task = running.pop(ref)
                    load[slot] -= 1
                    alone[slot] = False  # a line run alone is back, or the slot had none
                    try:
                        records, part = self.ray.get(ref)
                    except self.ray.exceptions.RayActorError as exc:
                        self._died(slot, actor, task, pending, exc)
                        continue
                    except self.ray.exceptions.RayError as exc:  # the task itself failed: its lines say why
                        reason = f"The Ray task failed: {_last_line(exc)}"
                        self._arrived(task, *failed_records(task, reason, type(exc).__name__))
                        continue
                    self._arrived(task, records, part)
        except KeyboardInterrupt:
            self.writer.flush_all()  # the workers are ended next; a resumed run runs the lines they had
            raise

    def end_workers(self) -> None:
        """End the run's worker processes (their lines are done, or the run stops)."""
        for actor in self.actors:
            self.ray.kill(actor)

    def _note_ready(self) -> None:
        """Log how long Ray took to give the run its workers, from the start of :func:`run_on_ray` (importing
        Ray, staging the flow, reaching the cluster, loading the flow in the workers); say on stderr when Ray
        has no room for them yet; note why when the flow cannot load on them."""
        waiting = [actor.pid.remote() for actor in self.actors]
        try:
            ready, waiting = self.ray.wait(waiting, num_returns=len(waiting), timeout=WAIT_NOTICE)
            if waiting:  # Ray waits without end for room to place them: say so, then wait on
                free = self.ray.available_resources().get("CPU", 0)
                total = self.ray.cluster_resources().get("CPU", 0)
                sys.stderr.write(f"\nflowline: waiting for Ray to start {len(waiting)} of {len(self.actors)} worker "
                                 f"process(es): each takes 1 CPU, and the cluster has {free:g} of {total:g} free "
                                 "(`ray status`). Lower --ray-workers, or wait for the cluster to have room.\n")
                sys.stderr.flush()
            self.ray.get(ready + waiting)
        except self.ray.exceptions.RayActorError:
            return
        except self.ray.exceptions.RayError as exc:  # the flow's constructor failed: no worker will do better
            self.cannot_load = _cannot_load(exc)
            return
        took = time.perf_counter() - self.began
        self.writer.folder.add_log(f"ray: {len(self.actors)} worker process(es) ready in {took:.2f} s (Ray loaded, "
                                   "cluster reached, flow loaded)")

    def _arrived(self, task: Task, records: MemoryRecords, part: BatchOutcome) -> None:
        for record in records.lines:
            self.on_line(record["status"])
        self.writer.add(task.index, records, part)

    def _died(self, slot: int, actor: Any, task: Task, pending: deque[Task], exc: Exception) -> None:
        if getattr(exc, "actor_init_failed", False):  # the flow does not load there: no worker will do better
            self.cannot_load = self.cannot_load or _cannot_load(exc)
            self._arrived(task, *failed_records(task, self.cannot_load, LOAD_ERROR))
            return
        if self.actors[slot] is actor:  # the first of its tasks to say so: a new worker takes its place
            self.actors[slot] = self.actor_class.remote(*self.args)
            self.writer.folder.add_log(f"ray: a worker process died ({type(exc).__name__}); a new one takes its "
                                       "place and its lines run again, one at a time")
        if not task.alone:  # any of its lines, or of the tasks beside it, may have ended the process
            self.writer.split(task.index, len(task.lines))
            pending.extendleft(reversed([Task(task.index, [line], alone=True) for line in task.lines]))
            return
        task.deaths += 1
        if task.deaths <= RETRIES:
            pending.appendleft(task)
            return
        reason = (f"Process crashed while executing line {task.lines[0].number}: the Ray worker running it alone "
                  f"died {task.deaths} times ({type(exc).__name__}).")
        self._arrived(task, *failed_records(task, reason))


def _cannot_load(exc: Exception) -> str:
    """Why every line fails when the workers cannot load the flow (``exc``: Ray's error from a constructor)."""
    return (f"The flow could not load on a Ray worker: {_last_line(exc)} (the workers need the flow's Python "
            "packages and Flowline installed).")


def _last_line(exc: Exception) -> str:
    """The last line of an exception's text: what a Ray error's traceback ends with (the error itself)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
