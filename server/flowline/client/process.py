"""The SDK runs flows in a child process: ``python -m flowline flow test --events -`` and ``run create``.

Running a flow changes its process (the working directory becomes the flow folder, the flow folder joins
``sys.path``, its environment variables are set, ``import promptflow`` is served by Flowline's stand-in)
and keeps its tool modules loaded; a script or notebook keeps its own state, a machine with promptflow
installed keeps using it, and a tool edited between two tests is loaded afresh. The child is the CLI
itself, so the SDK's runs are the CLI's.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from flowline.client.errors import FlowRunError, RequestError

# `flowline flow test` exits 2 for a request it refuses (its message on stderr), 1 for a failed run, 130 when
# interrupted; any other code is the process ended under it.
_USAGE, _FAILED, _INTERRUPTED = 2, 1, 130
_CANNOT_LOAD = re.compile(r"^Node '(?P<node>[^']+)' could not load its tool: (?P<type>[\w.]+): (?P<message>.*?)"
                          r"(?: \((?P<file>.+?):(?P<line>\d+)\))?$", re.M)


@dataclass
class TestOutcome:
    """What a child ``flow test`` reported: its ``run_end`` event and the tokens of each streaming node."""

    end: dict[str, Any] | None = None
    tokens: dict[str, list[str]] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    """The nodes started and not ended: those running when the child stopped without a ``run_end``."""
    stderr: str = ""
    code: int = 0


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "flowline", *args]


def _pump(stream: IO[str], sink: Callable[[str], None]) -> None:
    for line in stream:
        sink(line)


def flow_test(args: list[str], log: IO[str]) -> TestOutcome:
    """Run ``flowline flow test <args> --events -``; the tools' printed lines go to ``log`` as they come."""
    outcome = TestOutcome()
    errors: list[str] = []
    with subprocess.Popen(_command([*args, "--events", "-"]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, encoding="utf-8", errors="replace") as child:
        assert child.stdout is not None and child.stderr is not None
        reader = threading.Thread(target=_pump, args=(child.stderr, errors.append), daemon=True)
        reader.start()
        for line in _events(child.stdout):
            kind = line.get("type")
            if kind == "llm_token":
                outcome.tokens.setdefault(str(line.get("node")), []).append(str(line.get("message", "")))
            elif kind == "log":
                log.write(f"[{line.get('node')}] {line.get('message', '')}\n")
            elif kind == "node_start":
                outcome.running.append(str(line.get("node")))
            elif kind == "node_end" and line.get("node") in outcome.running:
                outcome.running.remove(str(line.get("node")))
            elif kind == "run_end":
                outcome.end = line
        reader.join()
    outcome.code = child.returncode
    outcome.stderr = "".join(errors)
    return outcome


def _events(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for text in stream:
        try:
            event = json.loads(text)
        except ValueError:
            continue  # not an event: the JSONL stream holds nothing else, but a tool may write to fd 1
        if isinstance(event, dict):
            yield event


def test_error(outcome: TestOutcome) -> Exception:
    """The exception of a child ``flow test`` that did not complete: ``ValueError`` for a refused request,
    :class:`FlowRunError` for a failed run or a tool that could not load."""
    end = outcome.end
    if end is not None:
        error = end.get("error") or {}
        return FlowRunError(end.get("failed_node"), str(error.get("type", end.get("status"))),
                            str(error.get("message", f"the run ended {end.get('status')}")), error.get("file"),
                            error.get("line"))
    loaded = _CANNOT_LOAD.search(outcome.stderr)
    if loaded is not None:
        return FlowRunError(loaded["node"], loaded["type"], loaded["message"], loaded["file"],
                            int(loaded["line"]) if loaded["line"] else None)
    node = outcome.running[-1] if outcome.running else None
    during = f" while node '{node}' ran" if node else ""
    if outcome.code == _INTERRUPTED:
        return FlowRunError(node, "KeyboardInterrupt", f"the test was interrupted{during}")
    if outcome.code not in (_USAGE, _FAILED):
        how = (f"was ended by {signal.Signals(-outcome.code).name}" if -outcome.code in signal.valid_signals()
               else f"exited with code {outcome.code}")
        return FlowRunError(node, "ProcessCrashError", f"the flow's process {how}{during}: a tool ended it "
                            "(os._exit, a signal) or it ran out of memory")
    message = python_words(_last_message(outcome.stderr))
    return RequestError(message) if outcome.code == _USAGE else FlowRunError(node, "FlowlineError", message)


# The CLI's options as the SDK's arguments, for the CLI's messages the SDK passes on; an option followed by a
# key (`--inputs name=...`, `--inputs name: ...`) becomes that key of the argument.
_OPTION = re.compile(r"--(?P<option>inputs|name|data|column-mapping|connections|variant|resume-from|flow|node|run|"
                     r"environment-variables|display-name|tags)\b(?: (?P<key>[\w.]+)(?=[:=]))?")


def python_words(message: str) -> str:
    """A message of the CLI with its options named as :class:`~flowline.client.Client` arguments:
    ``--column-mapping name='${data.x}'`` → ``column_mapping['name']='${data.x}'``, ``--name`` → ``name``."""
    def argument(match: re.Match[str]) -> str:
        name = match["option"].replace("-", "_")
        return f"{name}[{match['key']!r}]" if match["key"] else name

    return _OPTION.sub(argument, message)


def warnings_of(stderr: str) -> list[str]:
    """The CLI's warnings (``flowline: warning: ...`` lines), in the SDK's words."""
    marker = "flowline: warning: "
    return [python_words(line.split(marker, 1)[1]) for line in stderr.splitlines() if marker in line]


def _last_message(stderr: str) -> str:
    """The CLI's message: what follows its last ``flowline: error:`` (the whole message, lines and all),
    else its last line."""
    marker = "flowline: error: "
    if marker in stderr:
        return stderr.rsplit(marker, 1)[1].strip()
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("flowline: ") if lines else "the command ended without saying why"


def run_create(args: list[str], progress: IO[str] | None) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``flowline run create <args>``: its exit code, the record it printed (or ``None``), and its stderr.
    With ``progress`` the progress lines are written there as they come."""
    errors: list[str] = []

    def note(line: str) -> None:
        errors.append(line)
        if progress is not None:
            progress.write(line)
            progress.flush()

    with subprocess.Popen(_command(["run", "create", *args]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, encoding="utf-8", errors="replace") as child:
        assert child.stdout is not None and child.stderr is not None
        reader = threading.Thread(target=_pump, args=(child.stderr, note), daemon=True)
        reader.start()
        printed = child.stdout.read()
        reader.join()
    try:
        record = json.loads(printed) if printed.strip() else None
    except ValueError:
        record = None
    return child.returncode, record if isinstance(record, dict) else None, "".join(errors)


def usage_message(stderr: str) -> str:
    """The message of a refused ``run create`` (exit 2)."""
    return python_words(_last_message(stderr)) if stderr.strip() else "the run could not start"
