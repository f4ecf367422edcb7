"""Per-node capture of ``print`` output and stderr, for nodes running concurrently.

``sys.stdout``/``sys.stderr`` are replaced for the duration of a run by a proxy that routes each
write to the node running in the current context (a ``ContextVar``, which asyncio tasks and
``asyncio.to_thread`` carry), and to the real stream otherwise. Complete lines become ``log`` events.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

LineHandler = Callable[[str, str], None]
"""Receives (stream name, line) for one complete line written by a node."""

_current: ContextVar[tuple[LineHandler, dict[str, str]] | None] = ContextVar("flowline_node_output", default=None)


class _Router:
    def __init__(self, name: str, real: IO[str]) -> None:
        self._name = name
        self._real = real

    def write(self, text: str) -> int:
        target = _current.get()
        if target is None:
            return self._real.write(text)
        handler, pending = target
        buffered = pending.get(self._name, "") + text
        *lines, rest = buffered.split("\n")
        pending[self._name] = rest
        for line in lines:
            handler(self._name, line)
        return len(text)

    def flush(self) -> None:
        if _current.get() is None:
            self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextmanager
def routed_output(stray_stdout: IO[str] | None = None) -> Iterator[None]:
    """Install the routing proxies on ``sys.stdout`` and ``sys.stderr`` for a run.

    Writes from outside any node (threads a tool started itself) go to ``stray_stdout`` when
    given — the CLI passes stderr so that its stdout carries only the result.
    """
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = _Router("stdout", stray_stdout or real_out)  # type: ignore[assignment]
    sys.stderr = _Router("stderr", real_err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real_out, real_err


@contextmanager
def node_output(handler: LineHandler) -> Iterator[None]:
    """Route writes made in this context (and threads started from it) to ``handler``."""
    pending: dict[str, str] = {}
    token = _current.set((handler, pending))
    try:
        yield
    finally:
        _current.reset(token)
        for name, rest in pending.items():
            if rest:
                handler(name, rest)
