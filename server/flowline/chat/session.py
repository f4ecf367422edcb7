"""A chat with a chat flow, turn by turn: its tools loaded once, each turn one line with the history so far.

As ``flowline flow serve`` does (:mod:`flowline.serve.served`), the flow is prepared once and each turn runs
``engine.scheduler.run_line`` on one event loop kept for the session, sync tools on the engine's
``LeavableThreads``. A turn can be canceled (Ctrl-C while it runs): its line is canceled, a sync tool still
running is left behind on its thread, and whatever that thread still streams or prints is dropped, so it
never shows in a later turn. Only a completed turn is added to the history.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from flowline.chat.history import history_entry, history_problem, message_value, one_line
from flowline.chat.roles import ChatRoles
from flowline.connections.secrets import Secrets
from flowline.engine.errors import FlowRunError
from flowline.engine.events import Emitter, Event, to_jsonable
from flowline.engine.inputs import resolve_flow_inputs
from flowline.engine.prepare import Executable, RunOptions
from flowline.engine.run import new_run_id
from flowline.engine.scheduler import CANCELED, COMPLETED, FAILED, LineResult, run_line
from flowline.engine.threads import LeavableThreads
from flowline.flow.model import Flow


class TurnView(Protocol):
    """Where a running turn shows what happens (called from any thread, never after the turn ended)."""

    def token(self, text: str) -> None:
        """A chunk of the chat output as it streams."""

    def log(self, node: str, stream: str, line: str) -> None:
        """A line a node printed."""


@dataclass(frozen=True)
class TurnEnd:
    """How a turn ended: ``status`` (Completed, Failed or Canceled), the chat output's value, whether it
    streamed (then it was shown already, chunk by chunk), and for a failed turn one line saying why."""

    status: str
    answer: Any = None
    streamed: bool = False
    failure: str | None = None


class _Gate:
    """Passes a turn's events to its view until the turn ends (the flow's secrets masked in what tools print);
    after that (a tool left running on its thread after a cancel) they are dropped. The lock makes "ended"
    final: no chunk is shown once :meth:`close` has returned."""

    def __init__(self, view: TurnView, chat_node: str | None, secrets: Secrets) -> None:
        self._view = view
        self._chat_node = chat_node
        self._secrets = secrets
        self._lock = threading.Lock()
        self._open = True
        self.streamed = False

    def __call__(self, event: Event) -> None:
        with self._lock:
            if not self._open or event.node is None:
                return
            if event.type == "llm_token" and event.node == self._chat_node:
                self.streamed = True
                self._view.token(event.message or "")
            elif event.type == "log":
                self._view.log(event.node, event.stream or "stdout", self._secrets.mask(event.message or ""))

    def close(self) -> None:
        with self._lock:
            self._open = False


_Gate.event_types = {"llm_token", "log"}  # type: ignore[attr-defined]


def streamed_node(exe: Executable, roles: ChatRoles) -> str | None:
    """The node whose tokens are the chat output as it streams: the node the chat output is the whole
    output of, when the engine streams it (an LLM node, a Python tool that returns a generator)."""
    output = roles.output
    ref = output.reference.reference if output is not None and output.reference is not None else None
    if ref is None or ref.kind != "node" or ref.steps or ref.name not in exe.streaming:
        return None
    return ref.name


def failure_line(line: LineResult, secrets: Secrets) -> str:
    """One line for a failed turn: the node, its exception's type and message, where in the user's code
    (no traceback), secrets masked."""
    error = line.error
    what = f"{error.type}: {one_line(error.message)}" if error is not None else "it failed"
    where = f" ({error.file}:{error.line})" if error is not None and error.file else ""
    if line.failed_node is not None:
        return secrets.mask(f"Node '{line.failed_node}' failed: {what}{where}")
    return secrets.mask(f"The flow's outputs could not be made: {what}")


class ChatSession:
    """A chat flow's tools, loaded once, and the history of the conversation so far.

    ``given``: the other inputs (``--inputs``), resolved with the flow's defaults each turn as ``flow test``
    resolves them. ``resolve(given)`` makes a turn's flow inputs (raises :class:`FlowRunError`)."""

    def __init__(self, exe: Executable, roles: ChatRoles, given: dict[str, Any], history: list[Any],
                 resolve: Callable[[dict[str, Any]], dict[str, Any]], secrets: Secrets) -> None:
        self.exe = exe
        self.roles = roles
        self.history = list(history)
        self._given = {k: v for k, v in given.items() if k not in (roles.input.name, roles.history.name)}
        self._resolve = resolve
        self._secrets = secrets
        self._chat_node = streamed_node(exe, roles)
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(_ToolThreads())

    @property
    def name(self) -> str:
        """The flow folder's name."""
        return self.exe.flow.directory.name

    def clear(self) -> None:
        """Start the conversation over: the next turn gets an empty history."""
        self.history = []

    def turn(self, text: str, view: TurnView) -> TurnEnd:
        """Run one turn with ``text`` as the chat input (in a list for a ``list`` chat input); Ctrl-C (SIGINT)
        while it runs cancels it.

        A completed turn's entry is added to the history; a failed or canceled one changes nothing."""
        gate = _Gate(view, self._chat_node, self._secrets)
        message = message_value(self.roles, text)
        try:
            inputs = self._resolve({**self._given, self.roles.input.name: message,
                                    self.roles.history.name: self.history})
        except FlowRunError as exc:
            return TurnEnd(FAILED, failure=self._secrets.mask(one_line(str(exc))))
        task = self._loop.create_task(run_line(self.exe, inputs, Emitter([gate]), new_run_id(self.exe.flow)))
        try:
            with _ctrl_c_cancels(self._loop, task):
                line = self._loop.run_until_complete(task)
        except asyncio.CancelledError:
            return TurnEnd(CANCELED, streamed=gate.streamed)
        finally:
            gate.close()
            if not task.done():  # a KeyboardInterrupt before the loop ran: the line must not run in a later turn
                task.cancel()
        if line.status != COMPLETED:
            return TurnEnd(line.status, streamed=gate.streamed, failure=failure_line(line, self._secrets))
        outputs = to_jsonable(line.outputs or {})
        self.history.append(history_entry(self.roles, message, outputs))
        answer = outputs.get(self.roles.output.name) if self.roles.output is not None else None
        return TurnEnd(COMPLETED, answer, gate.streamed)

    def close(self) -> None:
        """Close the event loop (tools left running on their threads end with the process)."""
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()


class _ctrl_c_cancels:  # noqa: N801 - used as a context manager, like contextlib's lower-case ones
    """Within the block, SIGINT cancels ``task`` instead of raising ``KeyboardInterrupt`` (as
    ``asyncio.Runner`` does for its main task). Through the loop's own signal handling where there is one
    (Unix): the signal then wakes the loop whichever thread it reached. Only in the main thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self._loop = loop
        self._task = task
        self._previous: Any = None
        self._installed = ""

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self._task.cancel()
        self._loop.call_soon_threadsafe(lambda: None)  # wake the loop if it waits in select()

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            self._loop.add_signal_handler(signal.SIGINT, self._task.cancel)
            self._installed = "loop"
        except NotImplementedError:  # Windows
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = "signal"

    def __exit__(self, *exc: object) -> None:
        if self._installed == "loop":
            self._loop.remove_signal_handler(signal.SIGINT)  # Python's own handler again
        elif self._installed == "signal":
            signal.signal(signal.SIGINT, self._previous)


class _ToolThreads(LeavableThreads):
    """The engine's threads for sync tools, with Ctrl-C blocked in them (and in threads the tools start), so
    the signal reaches the main thread, which waits for the prompt's line or the turn's end."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(_without_ctrl_c, fn, *args, **kwargs)


def _without_ctrl_c(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, which sends Ctrl-C to no thread of ours
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return fn(*args, **kwargs)


def open_session(flow: Flow, roles: ChatRoles, given: dict[str, Any], variant: tuple[str, str] | None,
                 options: RunOptions) -> ChatSession:
    """Check the inputs, set up the process and load the flow's tools once; the first history is the
    chat-history input given with ``--inputs``, else its default, else empty (as promptflow 1.18.5 starts).

    Raises :class:`FlowRunError` for a missing or malformed input (before any tool loads), a bad variant
    or an unknown connection; :class:`NodeError` for a tool that does not load."""
    from flowline.engine.prepare import prepare

    history = _first_history(flow, roles, given)
    exe = prepare(flow, variant, options=options)

    def resolve(values: dict[str, Any]) -> dict[str, Any]:
        return resolve_flow_inputs(exe.flow, values).flow_inputs

    return ChatSession(exe, roles, given, history, resolve, exe.secrets)


_PLACEHOLDER: dict[str | None, Any] = {"list": [], "object": {}, "int": 0, "double": 0.0, "bool": False}
"""A value of the chat input's type, in its place while the other inputs are checked before the first turn."""


def _first_history(flow: Flow, roles: ChatRoles, given: dict[str, Any]) -> list[Any]:
    """The history of the first turn; the other inputs checked too (a missing one is refused up front), and the
    history's shape (a list of ``{"inputs": {...}, "outputs": {...}}``), its values named as JSON."""
    values = {**given, roles.input.name: _PLACEHOLDER.get(roles.input.type, "")}
    declared = roles.history
    if declared.name in given:
        values[declared.name] = _json_given(declared.name, given[declared.name])
    elif declared.default is None or declared.default.value is None:
        values[declared.name] = []
    else:
        values[declared.name] = _json_given(declared.name, declared.default.value)
    problem = history_problem(values[declared.name])
    if problem is not None:
        raise FlowRunError(f"The chat history input '{declared.name}' cannot start the chat: {problem}.")
    history = resolve_flow_inputs(flow, values).flow_inputs[declared.name]
    return list(history)


def _json_given(name: str, value: Any) -> Any:
    """A value given as text (``--inputs chat_history='[...]'``, a default written as a string) read as JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise FlowRunError(f"The chat history input '{name}' is not valid JSON: {exc}.") from None
