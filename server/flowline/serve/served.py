"""The flow a server serves: validated and its tools loaded once at start-up; each request's inputs checked
and its line run by the engine's scheduler, on the server's event loop, within the request timeout.

As ``pf flow serve`` (promptflow 1.18.5) a request runs the flow's per-line nodes; aggregation nodes do not run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from flowline.chat.history import history_problem
from flowline.connections.secrets import Secrets
from flowline.connections.store import ConnectionStore
from flowline.engine.errors import FlowRunError, NodeError
from flowline.engine.events import Emitter, Event
from flowline.engine.inputs import resolve_flow_inputs
from flowline.engine.prepare import Executable, RunOptions, prepare
from flowline.engine.scheduler import COMPLETED, LineResult, run_line
from flowline.flow.build import resolve_flow_path
from flowline.flow.model import Flow, FlowInput, FlowOutput
from flowline.flow.problems import Severity
from flowline.flow.validate import validate_file
from flowline.flow.variants import VariantError
from flowline.serve.config import ServeConfig
from flowline.serve.errors import ApiError

log = logging.getLogger("flowline.serve")


class ServeLoadError(Exception):
    """The flow cannot be served (not found, invalid, a tool that does not load): one message, exit code 2."""


@dataclass(frozen=True)
class ServedFlow:
    """A flow ready to answer requests: ``executable`` streams tokens to the request's events."""

    flow: Flow
    executable: Executable
    secrets: Secrets
    request_timeout: float
    name: str
    """What the flow is called: the flow folder's name, as promptflow names a served flow, unless told
    (``--name``; a build's snapshot is served under the flow's own name, not its folder ``flow``)."""
    allow_private_urls: bool = False

    @cached_property
    def tool_output(self) -> Callable[[Event], None]:
        """The sink of a request's ``log`` events: each line a tool printed (stdout, stderr, a logging handler
        that writes to stderr) logged as ``[<request id>] <node>: <line>``, the flow's secrets masked."""
        secrets = self.secrets

        def sink(event: Event) -> None:
            if event.type == "log":
                log.info("[%s] %s: %s", event.run_id, event.node, secrets.mask(event.message or ""))

        sink.event_types = {"log"}  # type: ignore[attr-defined]
        return sink

    @cached_property
    def quiet(self) -> Executable:
        """The same tools without token streaming (a JSON answer: LLM nodes make one request, usage counted)."""
        return replace(self.executable, streaming=frozenset())

    @cached_property
    def chat_input(self) -> FlowInput | None:
        """The input marked ``is_chat_input`` (a chat flow has one)."""
        return next((i for i in self.flow.inputs if i.is_chat_input), None)

    @cached_property
    def chat_history(self) -> FlowInput | None:
        """The input marked ``is_chat_history``."""
        return next((i for i in self.flow.inputs if i.is_chat_history), None)

    @cached_property
    def chat_output(self) -> FlowOutput | None:
        """The output marked ``is_chat_output``, else the only output of a chat flow."""
        marked = next((o for o in self.flow.outputs if o.is_chat_output), None)
        return marked or (self.flow.outputs[0] if self.chat_input and len(self.flow.outputs) == 1 else None)


def load_flow(config: ServeConfig) -> ServedFlow:
    """Validate the flow, apply the overrides, set up the process and load every tool (once).

    Raises :class:`ServeLoadError` with what is wrong and where. Warnings are logged."""
    from flowline.runs.submit import RunSpecError, _with_connections

    path = resolve_flow_path(config.flow)
    if not path.is_file():
        raise ServeLoadError(f"No flow found at '{config.flow}': expected a folder with flow.dag.yaml, "
                             "or the file itself.")
    store = ConnectionStore(config.home)
    types = store.types()
    flow, problems = validate_file(path, connections=frozenset(types), connection_types=types)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    for problem in problems:
        if problem.severity is not Severity.ERROR:
            log.warning(problem.format(path))
    if errors:
        listed = "\n".join(p.format(path) for p in errors)
        raise ServeLoadError(f"{listed}\nThe flow has {len(errors)} error(s) (listed above); fix them before "
                             "serving (see `flowline flow validate`).")
    try:
        flow = _with_connections(flow, {k: dict(v) for k, v in config.connections.items()})
        options = RunOptions(stream=True, environment=dict(config.environment_variables), home=config.home,
                             contain_interrupts=True)
        executable = prepare(flow, options=options)
    except (FlowRunError, VariantError, RunSpecError) as exc:
        raise ServeLoadError(str(exc)) from exc
    except NodeError as exc:
        raise ServeLoadError(exc.load_failure() + _requirements_hint(flow, exc)) from exc
    return ServedFlow(executable.flow, executable, executable.secrets, config.request_timeout,
                      config.name or executable.flow.directory.name, config.allow_private_urls)


def _requirements_hint(flow: Flow, exc: NodeError) -> str:
    """How to install a missing module when the flow lists its requirements (``requirements.txt``)."""
    requirements = flow.directory / "requirements.txt"
    if exc.info.type != "ModuleNotFoundError" or not requirements.is_file():
        return ""
    return f" The flow lists its requirements: install them with `pip install -r {requirements}`."


def request_inputs(served: ServedFlow, body: Any) -> dict[str, Any]:
    """A request's flow inputs: defaults filled in, values converted to the declared types.

    Raises :class:`ApiError` 400 for a body that is no JSON object, a required input missing (one
    without a default; a chat history defaults to ``[]``) or a value of the wrong type, naming the input.
    Names the flow does not declare are ignored, as promptflow 1.18.5 does."""
    flow = served.flow
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidRequest", "The request body must be a JSON object of the flow's inputs, "
                       f"such as {{{', '.join(repr(i.name) + ': ...' for i in flow.inputs)}}}.")
    missing = [i.name for i in flow.inputs if i.name not in body and not i.is_chat_history
               and (i.default is None or i.default.value is None)]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ApiError(400, "MissingInput", f"Required input(s) {names} missing from the request body; the flow "
                       f"'{served.name}' has no default for them.")
    try:
        inputs = resolve_flow_inputs(flow, body, files=False).flow_inputs
    except FlowRunError as exc:
        raise ApiError(400, "InvalidInput", served.secrets.mask(str(exc))) from exc
    history = served.chat_history
    if history is not None and history.name in inputs and history_problem(inputs[history.name]) is not None:
        raise ApiError(400, "InvalidInput", f"Flow input '{history.name}' (the chat history) must be a list of "
                       '{"inputs": {...}, "outputs": {...}} objects, one per earlier turn.')
    return inputs


async def run_request(served: ServedFlow, inputs: dict[str, Any], emitter: Emitter, request_id: str,
                      stream: bool) -> LineResult:
    """Run one line for a request (``stream``: tokens reach ``emitter`` as ``llm_token`` events).

    Raises :class:`ApiError`: 500 for a failing node (naming it and its exception), 504 when the line ran past
    the request timeout (naming the nodes still running, which are canceled). A canceled request (the client
    went away) cancels its line."""
    in_flight: set[str] = set()
    emitter.add(served.tool_output)
    exe = served.executable if stream else served.quiet
    task = asyncio.ensure_future(run_line(exe, inputs, emitter, request_id, None, in_flight))
    timed_out: list[list[str]] = []  # set when the time runs out: the nodes running then

    def time_out() -> None:
        timed_out.append(sorted(in_flight))  # before the cancel: canceled nodes leave the set
        task.cancel()

    # A timer rather than asyncio.wait(timeout=...): no waiter future and callbacks per request. Awaiting the task
    # also cancels it (and waits for its end) when the request itself is canceled.
    timer = asyncio.get_running_loop().call_later(served.request_timeout, time_out)
    try:
        line = await task
    except asyncio.CancelledError:
        if not timed_out:
            raise
        running = f" (still running: {', '.join(repr(n) for n in timed_out[0])})" if timed_out[0] else ""
        raise ApiError(504, "Timeout", f"The flow did not finish within {served.request_timeout:g} seconds"
                       f"{running}; raise --request-timeout or make the flow faster.") from None
    finally:
        timer.cancel()
    if line.status != COMPLETED:
        raise line_failure(served, line)
    return line


def unserializable(served: ServedFlow, outputs: dict[str, Any], exc: ValueError) -> ApiError:
    """The 500 answer for outputs JSON cannot write (NaN, an infinity, a circular reference): the same
    ``FlowOutputUnserializable`` error as an object that is no JSON (promptflow's ``json.dumps`` would write
    ``NaN``, which no JSON parser of a caller reads)."""
    name = next((f"'{k}' " for k, v in outputs.items() if not _writable(v)), "")
    return ApiError(500, "FlowFailed", served.secrets.mask(
        f"The flow's outputs could not be made: FlowOutputUnserializable: The output {name}for flow is "
        f"incorrect. The output value is not JSON serializable: {exc}. Please verify your flow output and make sure "
        "the value serializable."))


def _writable(value: Any) -> bool:
    from flowline.engine.events import json_bytes

    try:
        json_bytes(value)
    except ValueError:
        return False
    return True


def line_failure(served: ServedFlow, line: LineResult) -> ApiError:
    """The 500 answer for a failed line: the node and its exception, secrets masked, no traceback."""
    error = line.error
    if error is None:
        what = "it failed"
    elif error.message in ("", error.type):  # `raise TimeoutError()`: the type alone, not "TimeoutError: TimeoutError"
        what = error.type
    else:
        what = f"{error.type}: {error.message}"
    if line.failed_node is not None:
        return ApiError(500, "NodeFailed", served.secrets.mask(f"Node '{line.failed_node}' failed: {what}"))
    return ApiError(500, "FlowFailed", served.secrets.mask(f"The flow's outputs could not be made: {what}"))
