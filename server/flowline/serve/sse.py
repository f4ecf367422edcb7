"""``POST /score`` with ``Accept: text/event-stream``: the outputs as promptflow's Server-Sent Events.

The framing, observed from ``pf flow serve`` (promptflow 1.18.5; see tests/server/test_serve_stream.py): each
event is ``data: <JSON>`` and a blank line; the first event holds the outputs that are not streamed
(``{"count": 30}``), and is left out when every output streams; then one event per chunk of a streamed
output (``{"answer": "tok0 "}``), in order; nothing closes the stream. The JSON is ``json.dumps``'s default
(``", "`` and ``": "``, non-ASCII escaped).

An output streams when it is the whole output of a node whose tokens the engine streams (an LLM node, a
Python tool that returns a generator) and that node does produce a chunk. The first event is sent as soon as
every other output's node has ended, and chunks are flushed as they come after it; chunks that come earlier
wait for it, so the order stays promptflow's. Departures: a failure before the first event is answered as
JSON with its status (500, 504), not as a stream; one after it (the stream has begun, its status sent) ends
the stream with an event ``{"error": {"code", "message"}}``; a flow without streamed outputs answers with the
one event (promptflow refuses the request with 400 "Media type text/event-stream in Accept header is not
acceptable").
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from flowline.engine.events import to_jsonable
from flowline.engine.scheduler import BYPASSED, COMPLETED
from flowline.flow.model import FlowOutput
from flowline.flow.references import PropertyError, walk
from flowline.serve.live import LineEnded, LiveLine, NodeEnded, Token
from flowline.serve.served import ServedFlow


def frame(data: Any) -> bytes:
    """One event: ``data: <JSON>`` and a blank line."""
    return f"data: {json.dumps(data, allow_nan=False)}\n\n".encode()  # NaN is no JSON: ValueError


@dataclass(frozen=True)
class StreamPlan:
    """Which outputs may stream (by the node whose tokens they are) and which come in the first event."""

    streamable: dict[str, tuple[str, ...]]
    others: tuple[FlowOutput, ...]

    @classmethod
    def of(cls, served: ServedFlow) -> StreamPlan:
        """The plan for a served flow (outputs of aggregation nodes are left out, as in a line's outputs)."""
        exe = served.executable
        aggregation = {n.name for n in exe.aggregation_nodes}
        streamable: dict[str, tuple[str, ...]] = {}
        others = []
        for output in exe.flow.outputs:
            ref = output.reference.reference if output.reference is not None else None
            if output.reference is None or ref is not None and ref.kind == "node" and ref.name in aggregation:
                continue
            if ref is not None and ref.kind == "node" and ref.name in exe.streaming and not ref.steps:
                streamable[ref.name] = (*streamable.get(ref.name, ()), output.name)
            else:
                others.append(output)
        return cls(streamable, tuple(others))


class ScoreStream:
    """A request's events: :meth:`start` waits for the first event, :meth:`rest` streams what follows."""

    def __init__(self, plan: StreamPlan, live: LiveLine, inputs: dict[str, Any]) -> None:
        self._plan = plan
        self._live = live
        self._inputs = inputs
        self._ended: dict[str, NodeEnded] = {}
        self._streaming: set[str] = set()
        self._early: list[Token] = []
        self._finished = False

    async def start(self) -> list[bytes]:
        """The first events (the first event and the chunks that came before it, or everything when the line
        ended first). Raises the request's :class:`ApiError` when the line fails before them."""
        while True:
            happened = await self._live.next()
            if isinstance(happened, LineEnded):
                self._finished = True
                if happened.error is not None:
                    raise happened.error
                assert happened.result is not None and happened.result.outputs is not None
                outputs = to_jsonable(happened.result.outputs)
                first = {k: v for k, v in outputs.items() if k not in self._streamed_names()}
                return self._opening(first)
            if isinstance(happened, Token):
                if happened.node in self._plan.streamable:
                    self._streaming.add(happened.node)
                    self._early.append(happened)
            else:
                self._ended[happened.node] = happened
            ready = self._first_event()
            if ready is not None:
                return self._opening(ready)

    def _opening(self, first: dict[str, Any]) -> list[bytes]:
        chunks = [frame({name: token.text}) for token in self._early for name in self._plan.streamable[token.node]]
        return ([frame(first)] if first else []) + chunks

    def _streamed_names(self) -> set[str]:
        return {name for node in self._streaming for name in self._plan.streamable[node]}

    def _first_event(self) -> dict[str, Any] | None:
        """The first event once every output not streamed is known, else ``None``."""
        if not self._plan.streamable or any(e.status not in (COMPLETED, BYPASSED) for e in self._ended.values()):
            return None  # nothing streams (wait for the outputs), or the line is failing (wait for its error)
        if any(n not in self._streaming and n not in self._ended for n in self._plan.streamable):
            return None
        first: dict[str, Any] = {}
        for node, names in self._plan.streamable.items():
            if node not in self._streaming:  # ended without a chunk: its output is a value
                first.update(dict.fromkeys(names, self._ended[node].output))
        for output in self._plan.others:
            known, value = self._value(output)
            if not known:
                return None
            first[output.name] = value
        return first

    def _value(self, output: FlowOutput) -> tuple[bool, Any]:
        assert output.reference is not None
        ref = output.reference.reference
        if ref is None:
            return True, output.reference.value
        if ref.kind == "input":
            return True, to_jsonable(self._inputs.get(ref.name))
        ended = self._ended.get(ref.name)
        if ended is None:
            return False, None
        if ended.status == BYPASSED:
            return True, None
        try:
            return True, walk(ended.output, ref.steps)
        except PropertyError:
            return False, None  # the line fails at its end, with the engine's message

    async def rest(self) -> AsyncIterator[bytes]:
        """The chunks after the first events, flushed one by one; an error event if the line then fails."""
        try:
            while not self._finished:
                happened = await self._live.next()
                if isinstance(happened, Token) and happened.node in self._streaming:
                    for name in self._plan.streamable[happened.node]:
                        yield frame({name: happened.text})
                elif isinstance(happened, LineEnded):
                    self._finished = True
                    if happened.error is not None:
                        self._live.failed_midway(happened.error)
                        yield frame(happened.error.body())
        finally:
            self._live.close()
