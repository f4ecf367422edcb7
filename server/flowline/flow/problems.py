"""Problems found in a flow: one type shared by diagnostics, `flow validate` and the engine."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from flowline.flow.spans import Span


class Severity(str, Enum):
    """How bad a problem is; errors stop a flow from running."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Fix:
    """A suggested replacement of the text under ``span`` (used by quick fixes)."""

    title: str
    span: Span
    new_text: str


@dataclass(frozen=True)
class Problem:
    """One finding, located in ``file`` (the flow file when ``None``)."""

    span: Span
    severity: Severity
    code: str
    message: str
    file: Path | None = None
    fix: Fix | None = None
    subject: str | None = None
    """The name the problem is about (an input, a parameter, a node), for quick fixes."""

    def format(self, default_file: Path) -> str:
        """``file:line:col: severity: message [code]``, the compiler style editors can jump to."""
        path = self.file or default_file
        return f"{path}:{self.span.human()}: {self.severity.value}: {self.message} [{self.code}]"


def error(span: Span, code: str, message: str, fix: Fix | None = None, file: Path | None = None,
          subject: str | None = None) -> Problem:
    """An error problem."""
    return Problem(span, Severity.ERROR, code, message, file, fix, subject)


def warning(span: Span, code: str, message: str, fix: Fix | None = None, file: Path | None = None,
            subject: str | None = None) -> Problem:
    """A warning problem."""
    return Problem(span, Severity.WARNING, code, message, file, fix, subject)


def sentence(text: str) -> str:
    """``text`` ending in one full stop: messages from libraries (Jinja, YAML, jsonschema) sometimes
    end in their own, and a second one reads as a typo."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def has_errors(problems: list[Problem] | tuple[Problem, ...]) -> bool:
    """True when any problem is an error."""
    return any(p.severity is Severity.ERROR for p in problems)


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The choice closest to a mistyped word, if one is close enough."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` Did you mean 'x'?`` for the closest choice, or an empty string."""
    match = closest(word, choices)
    return f" Did you mean '{match}'?" if match else ""


def replace_with_closest(span: Span, word: str, choices: list[str] | tuple[str, ...]) -> Fix | None:
    """A quick fix replacing a mistyped word at ``span`` with the closest choice."""
    match = closest(word, choices)
    return Fix(f"Change to '{match}'", span, match) if match else None
