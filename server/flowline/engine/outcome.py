"""How a ``flowline flow test --events -`` child process ended, told as a run.

The language server runs each flow in a child process and relays its events. Whatever happens to
the child (it exits before its first event because a tool's package is missing or the flow is
invalid, it crashes, a signal kills it, the user cancels it), the run must end where the user
looks, with its reason. :class:`RunWatch` follows the events the child wrote; :func:`ending` turns
what was seen, the exit code and the tail of stderr into the answer of ``flowline.runFlow`` /
``flowline.runNode`` and the events the child did not write: a ``run_start`` (with a made-up run id)
when none came, a ``node_end`` for each node left running, and the ``run_end``. Pure: no processes.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowline.engine.events import make_run_id, now_iso

CANCELED, FAILED = "Canceled", "Failed"
EXIT_USAGE = 2
_PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): error: (?P<message>.*?)(?: \[[\w-]+\])?$")
_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
_CLI_PREFIX = "flowline: error: "
_MAX_REASON = 2000


@dataclass
class RunWatch:
    """What the server saw of one child run: its id, the nodes in flight, its end."""

    flow: str
    """The flow.dag.yaml the run is of."""
    node: str | None
    inputs: dict[str, Any]
    run_id: str | None = None
    end: dict[str, Any] | None = None
    running: dict[str, Any] = field(default_factory=dict)
    """Nodes that started and did not end yet, with their start time."""
    too_long: int = 0
    """Events the server could not read: lines longer than it reads (``lsp/runs.py: LINE_LIMIT``)."""

    def see(self, event: dict[str, Any]) -> None:
        """Take note of one event the child wrote."""
        kind = event.get("type")
        if kind == "run_start":
            self.run_id = str(event.get("run_id"))
        elif kind == "node_start":
            self.running[str(event.get("node"))] = event.get("start")
        elif kind == "node_end":
            self.running.pop(str(event.get("node")), None)
        elif kind == "run_end":
            self.end = event


@dataclass(frozen=True)
class Ending:
    """The command's answer, and the events to send because the child did not."""

    answer: dict[str, Any]
    events: list[dict[str, Any]]


def missing_module(text: str) -> str | None:
    """The module a ``ModuleNotFoundError`` (or any "No module named 'x'") names, if the text has one."""
    found = _MISSING_MODULE.findall(text)
    return found[-1] if found else None


def reason(stderr: str) -> str | None:
    """What a child said last on stderr: its last line, or the exception line(s) after a traceback."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return None
    said = lines[-1:]
    if any(line.startswith("Traceback (most recent call last):") for line in lines):
        # the frames are for developers; the exception's own lines (after the last frame) say what happened
        last_frame = max(i for i, line in enumerate(lines) if line.startswith((" ", "Traceback")))
        said = lines[last_frame + 1:] or said
    text = "\n".join(said).removeprefix(_CLI_PREFIX)
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + "…"


def refusal_problems(stderr: str) -> list[dict[str, Any]]:
    """The errors a refusal listed (``file:line:col: error: message [code]``), one dict each."""
    found = []
    for line in stderr.splitlines():
        match = _PROBLEM.match(line.strip())
        if match:
            found.append({"file": match["file"], "line": int(match["line"]), "column": int(match["column"]),
                          "message": match["message"]})
    return found


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _error(code: int | None, stderr: str, canceled: str | None, start_error: str | None,
           python: str, too_long: int) -> dict[str, Any]:
    """Why a run ended without its own ``run_end``, as the ``error`` of section 5."""
    if start_error is not None:
        return {"type": "ProcessError", "message": f"Python ({python}) could not start the run: {start_error}"}
    if canceled is not None:
        return {"type": "Canceled", "message": canceled}
    if too_long and code == 0:  # it ended well, in an event too long to read (its run_end, or one before)
        return {"type": "EventTooLong", "message": f"The run wrote {too_long} event(s) too long for the editor to "
                                                   "read (a huge output, input or printed line); run `flowline flow "
                                                   "test --events FILE` for the whole run."}
    said = reason(stderr)
    assert code is not None
    if code < 0:
        name = _signal_name(-code)
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return {"type": "ProcessKilled", "message": f"The run's process was stopped by {name}{hint}"
                                                    + (f"; it said: {said}" if said else ".")}
    if code == EXIT_USAGE:
        problems = refusal_problems(stderr)
        if not problems:
            return {"type": "UsageError", "message": said or "The flow could not run."}
        # The CLI's summary points at the lines above it; here the list goes with the run, so name the first.
        head = said.split(" (listed above)")[0] if said else f"{len(problems)} error(s) keep the flow from running"
        first = problems[0]
        return {"type": "InvalidFlow", "problems": problems,
                "message": f"{head}; the first: {Path(first['file']).name}:{first['line']}:{first['column']}: "
                           f"{first['message']}"}
    module = missing_module(stderr)
    if module is not None:
        # The error's type stands beside its message, so the CLI's "ModuleNotFoundError: " is left out.
        told = (said or f"No module named '{module}'").replace("ModuleNotFoundError: ", "")
        return {"type": "ModuleNotFoundError",
                "message": f"{told} Install it into {python} (from the flow's requirements.txt, when it has one) "
                           "or choose another interpreter."}
    if said:
        return {"type": "ProcessError", "message": f"{said} (exit code {code})"}
    return {"type": "ProcessError", "message": f"The run's process exited with code {code} before the run ended."}


def ending(watch: RunWatch, code: int | None, stderr: str, *, canceled: str | None = None,
           start_error: str | None = None, python: str = "python", duration_ms: float | None = None) -> Ending:
    """How the run ended: from its own ``run_end`` when it wrote one, else from the exit ``code`` (``None``:
    the process never started, ``start_error`` says why; negative: killed by that signal) and stderr.
    ``canceled`` is the reason when the server stopped the run; it then ends as Canceled."""
    started = watch.run_id is not None
    if watch.end is not None:
        end = watch.end
        answer = {"run_id": watch.run_id or end.get("run_id"), "status": end.get("status", FAILED),
                  "outputs": end.get("output"), "started": started, "exit_code": code}
        error = end.get("error")
        if isinstance(error, dict):
            answer["error"] = error
            module = missing_module(str(error.get("message", ""))) if error.get("type") == "ModuleNotFoundError" \
                else None
            if module is not None:
                answer["missing_module"] = module
        return Ending(answer, [])
    status = FAILED if canceled is None else CANCELED
    error = _error(code, stderr, canceled, start_error, python, watch.too_long)
    module = None if canceled is not None or start_error is not None else missing_module(stderr)
    run_id = watch.run_id or make_run_id(Path(watch.flow).parent.name)
    stamp = now_iso()
    node = {"node": watch.node} if watch.node else {}
    events: list[dict[str, Any]] = []
    if not started:
        events.append({"type": "run_start", "run_id": run_id, **node, "start": stamp, "inputs": watch.inputs,
                       "flow": watch.flow})
    for name, start in watch.running.items():
        events.append({"type": "node_end", "run_id": run_id, "node": name, "status": status, "start": start,
                       "end": stamp, **({"error": error} if canceled is None else {})})
    end_event: dict[str, Any] = {"type": "run_end", "run_id": run_id, **node, "status": status, "end": stamp,
                                 "error": error}
    if duration_ms is not None:
        end_event["duration_ms"] = duration_ms
    answer = {"run_id": run_id, "status": status, "outputs": None, "error": error, "started": started,
              "exit_code": code}
    if module is not None:
        end_event["missing_module"] = answer["missing_module"] = module
    events.append(end_event)
    return Ending(answer, events)
