"""What tool files import: ``from flowline import tool, log_metric, ToolProvider``.

Kept free of imports so that loading a tool file costs nothing beyond the file itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

metrics_sink: ContextVar[Callable[[str, Any, str | None], None] | None] = ContextVar(
    "flowline_metrics_sink", default=None)
"""Set by the engine while a node runs; receives ``log_metric`` calls."""


@overload
def tool(func: F) -> F: ...


@overload
def tool(func: None = None, **options: Any) -> Callable[[F], F]: ...


def tool(func: Any = None, **options: Any) -> Any:
    """Mark the entry function of a tool file. Usable as ``@tool`` or ``@tool(name=...)``.

    The function is returned unchanged (async functions stay async, breakpoints stay put);
    options such as ``name`` and ``description`` are kept on it for editors.
    """

    def mark(f: F) -> F:
        setattr(f, "__flowline_tool__", dict(options))  # noqa: B010 (the type F declares no such attribute)
        return f

    return mark(func) if func is not None else mark


class ToolProvider:
    """Base class of class-based tools: ``__init__`` takes the tool's set-up arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


def log_metric(key: str, value: Any, variant_id: str | None = None) -> None:
    """Record a metric of the run (call it from an aggregation node)."""
    sink = metrics_sink.get()
    if sink is None:
        print(f"metric {key} = {value!r}")
        return
    sink(key, value, variant_id)
