"""The SDK's errors: a flow that has problems, a test whose flow or node failed, a request refused (no such
run or connection, a bad argument). All are :class:`UserError`, which promptflow's ``UserErrorException``
names for scripts written for promptflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProblemInfo:
    """One problem of a flow, positioned for an editor: ``file``, 1-based ``line`` and ``column``."""

    file: str
    line: int
    column: int
    severity: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"


def problem_infos(problems: Sequence[Any], flow_file: Path) -> list[ProblemInfo]:
    """:class:`ProblemInfo` of each of the engine's problems (``flowline.flow.problems.Problem``)."""
    return [ProblemInfo(str(p.file or flow_file), p.span.start_line + 1, p.span.start_col + 1, p.severity.value,
                        p.code, p.message) for p in problems]


class UserError(Exception):
    """Something the caller can fix: the base of the SDK's errors (promptflow's ``UserErrorException``)."""


class RequestError(UserError, ValueError):
    """A request the SDK refuses (a bad argument, a run name taken, data that cannot be read); the message says
    what to change."""


class RunNotFoundError(RequestError):
    """No stored run has that name (promptflow's ``RunNotFoundError``)."""


class ConnectionNotFoundError(RequestError):
    """No stored connection has that name (promptflow's ``ConnectionNotFoundError``)."""


class FlowValidationError(UserError, ValueError):
    """A flow has errors and was not run. ``problems`` lists every problem (errors and warnings) with its
    position; ``str()`` shows them one per line, as ``flowline flow validate`` prints them."""

    def __init__(self, flow: Path, problems: list[ProblemInfo]) -> None:
        self.flow = flow
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        listed = "\n".join(str(p) for p in problems)
        super().__init__(f"The flow {flow} has {len(errors)} error(s); fix them before running:\n{listed}")


class FlowRunError(UserError, RuntimeError):
    """A test run failed: ``node`` (the node that failed, or ``None`` for the flow itself), the exception's
    ``type`` and ``message``, and where in the user's code it was raised (``file``, ``line``), when known.
    promptflow 1.18.5 raises its ``UserErrorException`` family here; the message names the same facts."""

    def __init__(self, node: str | None, type_: str, message: str, file: str | None = None,
                 line: int | None = None) -> None:
        self.node = node
        self.type = type_
        self.message = message
        self.file = file
        self.line = line
        where = f" ({file}:{line})" if file and line else f" ({file})" if file else ""
        what = f"Node '{node}' failed" if node else "The flow failed"
        super().__init__(f"{what}: {type_}: {message}{where}")
