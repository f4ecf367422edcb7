"""What a chat keeps between turns, and how its text is read and shown: pure functions, no I/O.

The history is promptflow 1.18.5's list of turns, each ``{"inputs": {<chat input>: <text>}, "outputs":
{<every flow output>}}``: ``pf flow test --interactive`` keeps only the chat input in ``inputs`` and every
output (generators joined) in ``outputs``, and passes the list as the chat-history input of the next turn.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flowline.chat.roles import ChatRoles
from flowline.engine.events import to_jsonable

COMMANDS = ("/history", "/clear", "/exit")
"""The words the terminal chat takes as commands rather than messages."""

_COMMAND = re.compile(r"/[A-Za-z][\w-]*")


def history_entry(roles: ChatRoles, text: str, outputs: dict[str, Any] | None) -> dict[str, Any]:
    """The history entry of a completed turn: the chat input's text and every flow output as JSON values."""
    return {"inputs": {roles.input.name: text}, "outputs": to_jsonable(dict(outputs or {}))}


def answer_text(value: Any) -> str:
    """How a turn's chat output is shown: a string as it is, any other value as JSON (null as nothing)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def history_text(history: list[Any]) -> str:
    """The history as ``/history`` prints it: indented JSON."""
    return json.dumps(history, ensure_ascii=False, indent=2)


def command_of(message: str) -> str | None:
    """The command word of a message that is one (``/clear``, or any other ``/word``), else ``None``.

    Only a single word made of ``/`` and letters counts: ``/etc/hosts?`` or ``/clear the list`` are messages."""
    text = message.strip()
    return text if _COMMAND.fullmatch(text) else None


def unknown_command(word: str) -> str:
    """The line that answers a ``/word`` that is no command (it is not sent to the flow)."""
    return f"Unknown command {word}: the commands are {', '.join(COMMANDS)} (Ctrl-D ends the chat too)."


@dataclass(frozen=True)
class Line:
    """One typed line: its text (a trailing ``\\`` removed) and whether the message goes on."""

    text: str
    continues: bool

    @classmethod
    def of(cls, typed: str) -> Line:
        """A line as typed (without its end of line); ``\\`` at its end means the message goes on."""
        typed = typed.rstrip("\r\n")
        if typed.endswith("\\"):
            return cls(typed[:-1], True)
        return cls(typed, False)


def join_lines(lines: list[str]) -> str:
    """The message made of the lines of a ``\\``-continued input (each newline kept)."""
    return "\n".join(lines)


def one_line(text: str) -> str:
    """A message shown on one line: its line breaks (an exception's message may have some) as spaces."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
