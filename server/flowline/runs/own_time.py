"""A line's own running time: the wall clock less the time the whole process stood still.

A C call that holds the GIL (``ctypes``, a catastrophic regex...) freezes every thread of the
process, the event loop included. The lines running next to it were only waiting for the GIL;
timing them by the wall clock would time them out with a false "node was still running". The
event loop ticks on a short period; a tick that comes late by more than a little says the process
stood still, and that time is nobody's own. Nothing in-process can end such a call: a tool that
makes one needs ``--worker-processes``, where the parent ends the frozen process at the deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

TICK = 0.05  # seconds between the loop's ticks
# Lateness of a tick that is still taken for the loop being busy, not for the process standing still
# (many threads taking turns at the GIL delay the loop by a few milliseconds each).
SLACK = 0.25


@dataclass
class OwnClock:
    """Seconds of the process's own time (monotonic, without the time it stood still); one per event loop."""

    last_tick: float
    stood_still: float = 0.0

    def now(self) -> float:
        """The own time now, counting a stall that is still going on (its tick has not come yet)."""
        now = time.monotonic()
        return now - self.stood_still - max(0.0, now - self.last_tick - TICK - SLACK)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            self.stood_still += max(0.0, now - self.last_tick - TICK - SLACK)
            self.last_tick = now


@asynccontextmanager
async def own_clock() -> AsyncIterator[OwnClock]:
    """A clock ticking on the running loop for the duration of the block."""
    clock = OwnClock(time.monotonic())
    ticking = asyncio.ensure_future(clock._tick())
    try:
        yield clock
    finally:
        ticking.cancel()
        await asyncio.gather(ticking, return_exceptions=True)
