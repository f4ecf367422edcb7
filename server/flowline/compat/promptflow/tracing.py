"""Stand-in for ``promptflow.tracing``: tracing is Flowline's own events, so these do nothing."""

from __future__ import annotations

from typing import Any, NoReturn

from flowline.compat.shim import missing_attribute


def trace(func: Any = None, **_: Any) -> Any:
    """Decorator kept for compatibility; returns the function unchanged."""
    return func if func is not None else (lambda f: f)


def start_trace(*_: Any, **__: Any) -> None:
    """Kept for compatibility; Flowline records traces as run events."""


__all__ = ["start_trace", "trace"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
