"""workspace/executeCommand ``flowline.runFlow``, ``flowline.runNode`` and ``flowline.cancelRun``.

- ``flowline.runFlow [uri, inputs?, {tag?}]`` / ``flowline.runNode [uri, node, inputs?]``: the flow runs in a
  child process (``python -m flowline flow test --events -``; user code never runs in the server);
  each event is relayed as a ``flowline/event`` notification (``run_start`` carries the ``tag`` given, so
  the chat panel knows which run is its turn); node outputs are remembered for hover
  and completion. Every run ends in the run panel, however the child ended: the answer
  ``{run_id, status, outputs, error?, started, exit_code, missing_module?}`` and, when the child
  wrote none, a ``run_end`` event (``engine/outcome.py`` tells how it ended). Events, the answer and
  the remembered outputs are clipped (``engine/clip.py``): a tool may return 100 MB, which the editor
  cannot hold. A node whose inputs come from nodes that did not run is not run: the answer lists what
  it ``needs`` (status ``NeedsInputs``) so the editor can ask for the values; a node that the flow's
  errors stop (``flow/scope.py``) is refused with them listed instead, before any value is asked for.
- ``flowline.cancelRun [run_id]`` stops a run (SIGTERM, then SIGKILL); it ends as Canceled, its
  running nodes too. Shutting the server down stops every run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowline.engine.clip import clip
from flowline.engine.outcome import Ending, RunWatch, ending
from flowline.lsp.documents import uri_to_path
from flowline.lsp.server import FlowlineServer

log = logging.getLogger(__name__)
EVENT = "flowline/event"
STDERR_KEPT = 64 * 1024
"""How much of a run's stderr is kept for its reason (the end is what matters)."""
LINE_LIMIT = 256 * 1024 * 1024
"""The longest event line read from a run (a node's output can be large); longer ones are skipped.
Reading one takes about three times its size in memory for a moment (the buffer, the line, the text)."""
KILL_AFTER_S = 3.0


class ChildRun:
    """A ``flow test`` child process and what the server saw of it."""

    def __init__(self, process: asyncio.subprocess.Process, watch: RunWatch) -> None:
        self.process = process
        self.watch = watch
        self.stopped: str | None = None
        """Why the server stopped the run, when it did."""

    def cancel(self, why: str = "The run was canceled.") -> None:
        """Stop the process: SIGTERM now, SIGKILL if it is still there a moment later."""
        self.stopped = why
        if self.process.returncode is None:
            self.process.terminate()
            asyncio.get_running_loop().call_later(KILL_AFTER_S, self._kill)

    def _kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@contextmanager
def _inputs_file(inputs: dict[str, Any] | None) -> Iterator[list[str]]:
    """``--inputs FILE`` arguments for the inputs (a temporary file, removed afterwards), or none."""
    if not inputs:
        yield []
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(inputs, handle)
    try:
        yield ["--inputs", handle.name]
    finally:
        Path(handle.name).unlink(missing_ok=True)


async def _tail(stream: asyncio.StreamReader) -> str:
    """Everything a stream gives until it ends; only the last ``STDERR_KEPT`` bytes are kept."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEPT:]
    return kept.decode("utf-8", errors="replace")


def _needs(ls: FlowlineServer, uri: str, node: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """What a run of ``node`` alone lacks (the default variants apply): none when errors stop the node
    (``flow/scope.py``, the checks ``flow test --node`` makes), so that the run is refused with them
    listed rather than asking first for values it would never use."""
    from flowline.engine.inputs import node_needs
    from flowline.flow.problems import has_errors
    from flowline.flow.scope import problems_for_node
    from flowline.flow.validate import validate
    from flowline.flow.variants import apply_variants

    try:
        state = ls.flows.state(uri)
    except OSError:  # the flow file cannot be read: the run says so
        return []
    problems = validate(state.flow, ls.flows.read, state.connections, ls.package_tools)
    if has_errors(problems_for_node(state.flow, problems, node)):
        return []
    flow = apply_variants(state.flow, None)
    target = flow.node(node)
    return [need.to_json() for need in node_needs(flow, target, inputs)] if target is not None else []


async def _relay(ls: FlowlineServer, child: ChildRun, remembered: dict[str, Any], tag: str | None) -> None:
    """Sends each event the child writes on to the client, clipped, noting what it says (the clipped
    outputs of completed nodes go to ``remembered``). A line longer than ``LINE_LIMIT`` is skipped and
    counted in ``child.watch.too_long``."""
    stdout = child.process.stdout
    assert stdout is not None
    skipping = False
    while True:
        try:
            raw = await stdout.readuntil(b"\n")
        except asyncio.IncompleteReadError as last:  # the end (or a last line without a line break)
            raw = last.partial
            if not raw:
                return
        except asyncio.LimitOverrunError as over:
            # Drop what is buffered of the long line; the rest of it comes before the next line break.
            await stdout.read(over.consumed)
            if not skipping:
                child.watch.too_long += 1
            skipping = True
            continue
        if skipping:  # the end of a line too long to read
            skipping = False
            continue
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON (a tool wrote to fd 1), or nested too deep to read
            continue
        if not isinstance(event, dict):
            continue
        event = clip(event)
        child.watch.see(event)
        if tag is not None and event.get("type") == "run_start":
            event["tag"] = tag
        if event.get("type") == "node_end" and event.get("status") == "Completed":
            remembered[str(event.get("node"))] = event.get("output")
        ls.protocol.notify(EVENT, event)


async def run(ls: FlowlineServer, uri: str, node: str | None, inputs: dict[str, Any] | None,
              tag: str | None = None) -> dict[str, Any]:
    """Run a flow (or one node) in a child process; answers how it ended, whatever happened. ``tag`` (the
    caller's name for the run) is set on its ``run_start`` event, so the caller knows the run's id as it starts."""
    if node:
        needs = _needs(ls, uri, node, inputs or {})
        if needs:
            return {"run_id": None, "status": "NeedsInputs", "outputs": None, "needs": needs}
    flow_path = uri_to_path(uri)
    command = [sys.executable, "-m", "flowline", "flow", "test", "--flow", str(flow_path.parent), "--events", "-"]
    if node:
        command += ["--node", node]
    watch = RunWatch(str(flow_path), node, inputs or {})
    started = time.perf_counter()
    with _inputs_file(inputs) as inputs_args:
        try:
            process = await asyncio.create_subprocess_exec(
                *command, *inputs_args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=str(flow_path.parent), limit=LINE_LIMIT)
        except OSError as exc:
            return _finish(ls, ending(watch, None, "", start_error=exc.strerror or str(exc), python=sys.executable))
        child = ChildRun(process, watch)
        ls.running.append(child)
        assert process.stderr is not None
        stderr = asyncio.ensure_future(_tail(process.stderr))
        try:
            await _relay(ls, child, ls.last_outputs.setdefault(str(flow_path.parent), {}), tag)
            code = await process.wait()
            said = await stderr
        finally:
            ls.running.remove(child)
            if process.returncode is None:  # the request itself failed: leave nothing running
                process.kill()
    duration = round((time.perf_counter() - started) * 1000, 3)
    return _finish(ls, ending(watch, code, said, canceled=child.stopped, python=sys.executable,
                              duration_ms=duration))


def _finish(ls: FlowlineServer, end: Ending) -> dict[str, Any]:
    """Sends the events the child did not write and logs how the run ended; returns the answer."""
    for event in end.events:
        ls.protocol.notify(EVENT, clip(event))
    answer: dict[str, Any] = clip(end.answer)
    error = answer.get("error")
    log.info("run %s: %s%s", answer["run_id"], answer["status"],
             f" ({error.get('message')})" if isinstance(error, dict) else "")
    return answer


def register(server: FlowlineServer) -> None:
    """Register the run commands, and stop every run when the server shuts down."""

    @server.command("flowline.runFlow")
    async def run_flow(ls: FlowlineServer, *args: Any) -> dict[str, Any]:
        uri = str(args[0])
        options = args[2] if len(args) > 2 and isinstance(args[2], dict) else {}
        tag = options.get("tag")
        return await run(ls, uri, None, args[1] if len(args) > 1 and isinstance(args[1], dict) else None,
                         str(tag) if tag is not None else None)

    @server.command("flowline.runNode")
    async def run_node(ls: FlowlineServer, *args: Any) -> dict[str, Any]:
        uri, node = str(args[0]), str(args[1])
        return await run(ls, uri, node, args[2] if len(args) > 2 and isinstance(args[2], dict) else None)

    @server.command("flowline.cancelRun")
    def cancel_run(ls: FlowlineServer, *args: Any) -> bool:
        child = next((c for c in ls.running if args and c.watch.run_id == str(args[0])), None)
        if child is None:
            return False
        child.cancel()
        return True

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: FlowlineServer, *args: Any) -> None:
        for child in list(ls.running):
            child.cancel("The language server shut down during the run (a restart or a closed window).")
