"""Noting a tool that ends the run's own process (``os._exit``), which nothing can stop.

Lines that run in the process of ``run create`` (no ``--worker-processes``) share it: a tool that
calls ``os._exit`` ends the run on the spot, without Python's clean-up. promptflow 1.18.5 runs each
line in a worker process, so there only that line fails (``ProcessCrashError``); Flowline's
``--worker-processes`` does the same. Here the run can at least be stored as what happened — which
line ended the process, with which code — before the process goes, rather than later as "the
process running it stopped".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NoReturn

running_line: ContextVar[int | None] = ContextVar("flowline_running_line", default=None)
"""The number of the line the current context runs (set by the batch for each line's task; tools'
threads carry it, as ``asyncio.to_thread`` copies the context)."""


@contextmanager
def noted_exits(note: Callable[[int, int | None], None]) -> Iterator[None]:
    """Call ``note(code, line)`` before ``os._exit(code)`` ends this process within the block.

    ``line`` is the running line's number, ``None`` outside the lines (the aggregation, a thread a
    tool started). A child process (a tool's ``fork``, a worker process) ends as it asks, unnoted.
    """
    real_exit, pid = os._exit, os.getpid()

    def noted_exit(status: int) -> NoReturn:
        if os.getpid() == pid:
            try:
                note(status, running_line.get())
            except Exception:  # noqa: BLE001 - the process ends as the tool asked, whatever the note did
                pass
        real_exit(status)

    os._exit = noted_exit
    try:
        yield
    finally:
        os._exit = real_exit
