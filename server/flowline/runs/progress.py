"""Batch progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import time
from typing import IO


class Progress:
    """Counts finished lines and reports done/failed, rate and ETA."""

    def __init__(self, stream: IO[str], total: int, done: int = 0, every_s: float = 5.0) -> None:
        self.stream = stream
        self.total = total
        self.done = done
        self.failed = 0
        self.started = time.perf_counter()
        self.fresh = 0
        self.tty = stream.isatty()
        self.every_s = 0.1 if self.tty else every_s
        self._last = 0.0

    def update(self, status: str) -> None:
        """One more line finished with ``status``."""
        self.done += 1
        self.fresh += 1
        if status != "Completed":
            self.failed += 1
        now = time.perf_counter()
        if now - self._last >= self.every_s:
            self._last = now
            self._show(final=False)

    def _line(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.fresh / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 and left else "0 s"
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        return (f"[{bar}] {self.done}/{self.total} lines, {self.failed} failed, {rate:.1f} lines/s, "
                f"ETA {eta}")

    def _show(self, final: bool) -> None:
        if self.tty:
            self.stream.write("\r" + self._line() + ("\n" if final else ""))
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Print the final state."""
        self._show(final=True)
