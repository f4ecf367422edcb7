"""What runs a node: a Python tool or a prompt template, behind one small interface."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from flowline.engine.image_inputs import fetch_links, has_links
from flowline.engine.python_tool import PythonTool
from flowline.flow.templates import render


@dataclass(frozen=True)
class NodeContext:
    """What a running node may tell the run: streamed tokens and token usage."""

    on_token: Callable[[str], None]
    add_usage: Callable[[dict[str, int]], None]
    stream: bool = False
    untrusted: frozenset[str] = frozenset()
    """Inputs fed straight from flow inputs: user text that must not add chat roles."""
    on_prompt: Callable[[Any], None] = lambda prompt: None
    """Receives what an LLM node sends: its chat messages, or its completion prompt."""


class NodeRunner(Protocol):
    """Runs one node given its resolved inputs."""

    def has_default(self, name: str) -> bool:
        """True when input ``name`` may be left out (the tool has a default)."""

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        """A literal input converted to the type the tool expects."""

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        """Run the node and return its output (an iterator's items recorded as a :class:`Stream`)."""


@dataclass(frozen=True)
class Stream:
    """The recorded items of a generator (or other iterator) a tool returned.

    Downstream nodes receive a fresh generator over the items (as Prompt flow hands them the
    generator itself, but every consumer sees every item); flow outputs and events get the
    items joined into one string.
    """

    items: tuple[Any, ...]
    is_async: bool = False

    def text(self) -> str:
        """The items joined as text."""
        return "".join(item if isinstance(item, str) else str(item) for item in self.items)

    def replay(self) -> Any:
        """A new (async) generator yielding the recorded items."""
        if self.is_async:
            return _replay_async(self.items)
        return (item for item in self.items)


async def _replay_async(items: tuple[Any, ...]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def plain(value: Any) -> Any:
    """A node output as flow outputs and events show it (streams joined)."""
    return value.text() if isinstance(value, Stream) else value


def _chunk(item: Any) -> str:
    return item if isinstance(item, str) else str(item)


async def _record_async(items: AsyncIterator[Any], on_token: Callable[[str], None] | None) -> Stream:
    recorded = []
    async for item in items:
        recorded.append(item)
        if on_token is not None:
            on_token(_chunk(item))
    return Stream(tuple(recorded), is_async=True)


def _record(items: Iterator[Any], on_token: Callable[[str], None] | None) -> Stream:
    recorded = []
    for item in items:
        recorded.append(item)
        if on_token is not None:
            on_token(_chunk(item))
    return Stream(tuple(recorded))


def exit_call(exc: SystemExit) -> str:
    """The call that raised ``exc``, as the user wrote it: ``sys.exit()``, ``sys.exit(0)``, ``sys.exit('bye')``."""
    return "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"


class ToolExit(Exception):
    """A tool called ``sys.exit()``; ``exit`` is the ``SystemExit`` it raised.

    ``SystemExit`` is no ``Exception``: it would pass the scheduler's ``except Exception`` and end the
    whole run (every line of a batch, and with no record of any); turned into this at the tool call,
    it fails the tool's node like any error.
    """

    def __init__(self, tool: str, raised: SystemExit) -> None:
        super().__init__(f"Tool '{tool}' called {exit_call(raised)}; a tool returns a value or raises an "
                         "exception — remove the sys.exit call.")
        self.exit = raised


class ToolRaised(Exception):
    """A tool raised a ``BaseException`` that is no ``Exception`` (``KeyboardInterrupt``, ``GeneratorExit``, an
    async tool's own ``asyncio.CancelledError``); ``raised`` is that exception.

    Like ``SystemExit`` (:class:`ToolExit`) these would pass the scheduler's ``except Exception``: a served
    request would stop the server (``KeyboardInterrupt``) or end in a plain-text 500. Where a runner is made to
    contain them (``flow serve``), they fail the tool's node like any error.
    """

    def __init__(self, tool: str, raised: BaseException) -> None:
        name = type(raised).__name__
        detail = f" ({raised})" if str(raised) else ""
        super().__init__(f"Tool '{tool}' raised {name}{detail}; a tool returns a value or raises an Exception.")
        self.raised = raised


def _cancel_requested() -> bool:
    """True when the running task was asked to cancel (its CancelledError is the cancellation, not a tool's)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+; before it every CancelledError counts as one
    return task is None or cancelling is None or cancelling() > 0


def _call_sync(func: Any, inputs: dict[str, Any], on_token: Callable[[str], None] | None) -> Any:
    result = func(**inputs)
    # Any iterator, not only a generator: promptflow consumes an object with __iter__/__next__ alike.
    return _record(result, on_token) if isinstance(result, Iterator) else result


@dataclass(frozen=True)
class PythonRunner:
    """A ``@tool`` function: sync tools run in worker threads, async ones on the loop."""

    tool: PythonTool
    contain_interrupts: bool = False
    """Fail the node when the tool raises ``KeyboardInterrupt``, ``GeneratorExit`` or its own ``CancelledError``
    (a served flow: no request may stop the server). Otherwise a ``KeyboardInterrupt`` is taken as the user's
    Ctrl-C, as ``flow test`` and batch runs do."""

    def has_default(self, name: str) -> bool:
        return self.tool.has_default(name)

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        return self.tool.convert_literal(node, name, value)

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        try:
            return await self._call(inputs, ctx.on_token if ctx.stream else None)
        except SystemExit as exc:
            raise ToolExit(self.tool.func.__name__, exc) from exc
        except asyncio.CancelledError as exc:
            if not self.contain_interrupts or _cancel_requested():
                raise
            raise ToolRaised(self.tool.func.__name__, exc) from exc
        except (KeyboardInterrupt, GeneratorExit) as exc:
            if not self.contain_interrupts:
                raise
            raise ToolRaised(self.tool.func.__name__, exc) from exc

    async def _call(self, inputs: dict[str, Any], on_token: Callable[[str], None] | None) -> Any:
        """The tool's result; the items of an iterator it returns recorded (and streamed to ``on_token``)."""
        func = self.tool.func
        kwargs = {k: v for k, v in inputs.items() if k not in self.tool.init_params}
        if has_links(kwargs):  # images given by URL are fetched for the tool, off the event loop
            kwargs = await asyncio.to_thread(fetch_links, kwargs)
        if inspect.isasyncgenfunction(func):
            return await _record_async(func(**kwargs), on_token)
        if inspect.iscoroutinefunction(func):
            result = await func(**kwargs)
        else:
            result = await asyncio.to_thread(_call_sync, func, kwargs, on_token)
        if isinstance(result, AsyncIterator):
            return await _record_async(result, on_token)
        if isinstance(result, Iterator):
            return await asyncio.to_thread(_record, result, on_token)
        return result


@dataclass(frozen=True)
class PromptRunner:
    """A ``prompt`` node: its output is the rendered template."""

    template: str

    def has_default(self, name: str) -> bool:
        return False

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        return value

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        return render(self.template, inputs)
