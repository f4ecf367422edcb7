"""One request's line as it runs: its streamed tokens and ended nodes handed out in order, then its end.

The engine emits events from any thread (a sync tool's generator runs on a worker thread); each is put on
the request's queue through the loop, so the request's handler reads them in the order they happened.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from flowline.engine.events import Emitter, Event
from flowline.engine.scheduler import LineResult
from flowline.serve.errors import ApiError
from flowline.serve.served import ServedFlow, run_request

log = logging.getLogger("flowline.serve")


@dataclass(frozen=True)
class Token:
    """A chunk a node streamed (an LLM's token, an item its generator yielded), as text."""

    node: str
    text: str


@dataclass(frozen=True)
class NodeEnded:
    """A node ended: its status and (when completed) its output as JSON."""

    node: str
    status: str
    output: Any


@dataclass(frozen=True)
class LineEnded:
    """The line ended: its result, or the error the request is answered with."""

    result: LineResult | None
    error: ApiError | None


Happening = Token | NodeEnded | LineEnded


class LiveLine:
    """Starts a request's line with token streaming; :meth:`next` gives what happens, :meth:`close` cancels."""

    def __init__(self, served: ServedFlow, inputs: dict[str, Any], request_id: str) -> None:
        loop = asyncio.get_running_loop()
        self.request_id = request_id
        self._secrets = served.secrets
        self._queue: asyncio.Queue[Happening] = asyncio.Queue()

        def sink(event: Event) -> None:
            if event.type == "llm_token" and event.node is not None:
                loop.call_soon_threadsafe(self._queue.put_nowait, Token(event.node, event.message or ""))
            elif event.type == "node_end" and event.node is not None:
                ended = NodeEnded(event.node, event.status or "", event.output)
                loop.call_soon_threadsafe(self._queue.put_nowait, ended)

        sink.event_types = {"llm_token", "node_end"}  # type: ignore[attr-defined]
        self._task = asyncio.ensure_future(run_request(served, inputs, Emitter([sink]), request_id, stream=True))
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[LineResult]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, ApiError):
            error = ApiError(500, "InternalError", self._secrets.mask(f"{type(error).__name__}: {error}"))
        # A done callback runs after the callbacks tool threads scheduled before the line ended: the end is last.
        self._queue.put_nowait(LineEnded(None if error else task.result(), error))

    async def next(self) -> Happening:
        """What happened next (a :class:`LineEnded` last)."""
        return await self._queue.get()

    def failed_midway(self, error: ApiError) -> None:
        """Log a failure that came after the answer began (its status, 200, is sent already)."""
        log.error("request %s: %s (after the event stream began; it ends with an error event)", self.request_id,
                  error.message)

    def close(self) -> None:
        """Cancel the line if it still runs (the client went away)."""
        self._task.cancel()
