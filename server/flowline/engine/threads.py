"""The executor that runs sync tools: threads nobody waits for.

asyncio runs a sync tool (``asyncio.to_thread``) on the loop's default executor, a ``ThreadPoolExecutor``
whose threads are joined when the loop closes and again when the process exits. A tool that never returns
(a line past its deadline, a tool still running when Ctrl-C ends ``flow test``) would then hold up the run or
the exit; the threads here are daemons that are never joined, so such a tool ends with the process.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class LeavableThreads(ThreadPoolExecutor):
    """The loop's executor for sync tools: a daemon thread per call in flight (idle ones are reused).

    A ``ThreadPoolExecutor``'s threads are joined when the loop closes and again at exit, so one
    tool that never returns (a line past its deadline) would hold up the whole run. These threads
    are never joined: such a tool is left behind and ends with the process. It subclasses
    ``ThreadPoolExecutor`` only because asyncio's ``set_default_executor`` asks for one.
    ``max_threads`` bounds the threads (``flow serve --workers``); calls beyond it wait in order.
    """

    def __init__(self, max_threads: int | None = None) -> None:
        super().__init__(max_workers=1)
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._idle = 0
        self._count = 0
        self._backlog = 0  # jobs queued for the next thread that becomes free (all ``max_threads`` busy)
        self._max = max_threads
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            spawn = False
            if self._idle:
                self._idle -= 1  # that idle thread takes this job
            elif self._max is None or self._count < self._max:
                spawn = True
                self._count += 1
            else:
                self._backlog += 1
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
                if self._backlog:
                    self._backlog -= 1  # this thread takes a queued job next
                else:
                    self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the idle threads end; busy ones are never waited for (see the class)."""
        with self._lock:
            idle, self._idle = self._idle, 0
            self._count -= idle
        for _ in range(idle):
            self._jobs.put(None)


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` with sync tools on :class:`LeavableThreads`, where Ctrl-C raises
    ``KeyboardInterrupt`` at once even while a tool runs.

    ``asyncio.run`` handles SIGINT with a Python-level handler, which runs only when the main thread next
    executes code. The kernel may hand the signal to a tool's thread instead (sleeping in a system call); the
    main thread then sleeps on in ``select()`` until some other event, which can be the tool's end, a minute
    later. The loop's own signal handler also wakes ``select()`` through its self-pipe, whichever thread
    took the signal. Without it (Windows, or not the main thread) this is plain ``asyncio.run``.
    """

    async def interruptible() -> T:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(LeavableThreads())
        task = asyncio.current_task()
        interrupted = False

        def on_ctrl_c() -> None:
            nonlocal interrupted
            interrupted = True
            if task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_ctrl_c)
        except (NotImplementedError, RuntimeError, ValueError):
            return await main
        try:
            return await main
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    return asyncio.run(interruptible())
