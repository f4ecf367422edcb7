"""Telling the user's Ctrl-C from a ``KeyboardInterrupt`` that code raised.

Both arrive as ``KeyboardInterrupt``. While tools are imported, a SIGINT handler notes that the signal came
before raising it as Python's own handler does, so a tool file that raises ``KeyboardInterrupt`` at import
fails its node's load (one line, a stored Failed run) while Ctrl-C still interrupts the command.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def noting_ctrl_c() -> Iterator[list[int]]:
    """Within the block, the list yielded holds one item per SIGINT received. Only where Python's own
    handler is installed (the main thread of a process that did not ignore SIGINT), which it then stands in
    for; elsewhere the list stays empty (a worker process that ignores Ctrl-C sees no SIGINT at all)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield seen
        return

    def note(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
