"""Run events (DESIGN.md section 5) and the sinks that receive them.

The engine emits events; it does not know who listens. Sinks must accept events from any thread.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any

EVENT_TYPES = ("run_start", "node_start", "node_end", "log", "llm_token", "run_end")


@dataclass(frozen=True)
class ErrorInfo:
    """What went wrong, pointing at the user's code."""

    type: str
    message: str
    file: str | None = None
    line: int | None = None
    traceback: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form of section 5."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Event:
    """One event of a run. Fields that do not apply to a type stay ``None`` and are not serialized."""

    type: str
    run_id: str
    line_number: int | None = None
    node: str | None = None
    status: str | None = None
    inputs: dict[str, Any] | None = None
    output: Any = None
    start: str | None = None
    end: str | None = None
    duration_ms: float | None = None
    tokens: dict[str, int] | None = None
    error: ErrorInfo | None = None
    message: str | None = None
    stream: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; values that JSON cannot hold are turned into strings."""
        data: dict[str, Any] = {"type": self.type, "run_id": self.run_id}
        for key in ("line_number", "node", "status", "inputs", "output", "start", "end", "duration_ms",
                    "tokens", "message", "stream"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.error is not None:
            data["error"] = self.error.to_json()
        data.update(self.extra)
        return data


def now_iso() -> str:
    """The current time in ISO 8601 with timezone."""
    return datetime.now(timezone.utc).isoformat()


def make_run_id(folder_name: str) -> str:
    """A readable unique run id: the flow folder's name, a timestamp, a random suffix."""
    return f"{folder_name}_{datetime.now().strftime('%Y%m%d_%H%M%S')}_{os.urandom(3).hex()}"


_SCALARS = (str, int, float, bool, type(None))


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _SCALARS):
        return not isinstance(value, float) or value == value and value not in (float("inf"), float("-inf"))
    if depth > 20:
        return False
    if type(value) is dict:
        return all(type(k) is str and _is_plain(v, depth + 1) for k, v in value.items())
    if type(value) is list:
        return all(_is_plain(v, depth + 1) for v in value)
    return False


def to_jsonable(value: Any) -> Any:
    """A value that ``json.dumps`` accepts (unknown objects become their JSON form or ``str``).

    Plain JSON values are returned as they are; anything else is converted through a JSON round trip.
    """
    if _is_plain(value):
        return value
    return json.loads(json.dumps(value, default=_fallback))


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, in one pass: what ``json.dumps(to_jsonable(value))`` writes, without the
    intermediate copy. Raises ``ValueError`` for NaN or an infinity (JSON has no spelling for them) and for a
    circular reference."""
    return json.dumps(value, default=_fallback, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _fallback(value: Any) -> Any:
    if hasattr(value, "__json__"):  # objects that choose their JSON form (connections mask their secrets)
        return value.__json__()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if hasattr(value, "__dict__") and not callable(value):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


Sink = Callable[[Event], None]


class JsonlSink:
    """Writes each event as one JSON line to a stream (the emitter serializes calls)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __call__(self, event: Event) -> None:
        self._stream.write(json.dumps(event.to_json(), default=_fallback, ensure_ascii=False) + "\n")
        self._stream.flush()


class Emitter:
    """Fans events out to sinks; safe to call from worker threads.

    A sink may declare ``event_types`` (a set); events of other types are then not built for it.
    """

    def __init__(self, sinks: list[Sink] | None = None) -> None:
        self._sinks = list(sinks or [])
        self._lock = threading.Lock()

    def add(self, sink: Sink) -> None:
        """Add a sink."""
        self._sinks.append(sink)

    def wants(self, event_type: str) -> bool:
        """True when some sink takes events of this type (so they are worth building)."""
        return any(event_type in getattr(sink, "event_types", EVENT_TYPES) for sink in self._sinks)

    def emit(self, event: Event) -> None:
        """Send one event to every sink, in order."""
        with self._lock:
            for sink in self._sinks:
                sink(event)
