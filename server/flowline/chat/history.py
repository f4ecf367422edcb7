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


NO_ANSWER = "(no answer)"
"""What ``Bot:`` shows for a turn whose chat output is null (or a flow without outputs)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def history_entry(roles: ChatRoles, message: Any, outputs: dict[str, Any] | None) -> dict[str, Any]:
    """The history entry of a completed turn: the chat input's value and every flow output as JSON values."""
    return {"inputs": {roles.input.name: to_jsonable(message)}, "outputs": to_jsonable(dict(outputs or {}))}


def text_refusal(roles: ChatRoles) -> str | None:
    """Why the terminal cannot give the chat input typed text (its type is ``image``), else ``None``."""
    if roles.input.type == "image":
        return (f"its chat input '{roles.input.name}' is an image, and the terminal chat sends text; chat with it "
                "in VS Code's chat panel, which attaches images (or make the chat input a list)")
    return None


def message_value(roles: ChatRoles, text: str) -> Any:
    """The chat input's value for a typed message: the text, or for a ``list`` chat input promptflow's list
    of parts with the text its one part (``["text"]``)."""
    return [text] if roles.input.type == "list" else text


def history_problem(history: Any) -> str | None:
    """Why ``history`` is not a chat history (a list of ``{"inputs": {...}, "outputs": {...}}``), values
    shown as JSON; ``None`` when it is one."""
    shape = 'a list of turns {"inputs": {...}, "outputs": {...}}'
    if not isinstance(history, list):
        return f"it must be {shape}; it is {_json(history)}"
    for number, turn in enumerate(history, 1):
        if not (isinstance(turn, dict) and isinstance(turn.get("inputs"), dict)
                and isinstance(turn.get("outputs"), dict)):
            return f"it must be {shape}; turn {number} is {_json(turn)}"
    return None


def _json(value: Any, limit: int = 80) -> str:
    text = json.dumps(to_jsonable(value), ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def answer_text(value: Any) -> str:
    """How a turn's chat output is shown: a string as it is, null as ``(no answer)``, any other value as JSON."""
    if value is None:
        return NO_ANSWER
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def history_text(history: list[Any]) -> str:
    """The history as ``/history`` prints it: indented JSON."""
    return json.dumps(history, ensure_ascii=False, indent=2)


def printable(text: str) -> str:
    """``text`` safe to write to a terminal: control characters (C0 but newline and tab, DEL, C1) written as
    ``\\x1b``-style escapes, so an answer or a tool's print cannot clear the screen, set the title, ring the bell
    or write the clipboard; carriage returns dropped (a CRLF is a newline; a lone CR would overwrite the line)."""
    return _CONTROL.sub(_escape, text.replace("\r", ""))


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


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
        """A line as typed (without its end of line); ``\\`` at its end means the message goes on, ``\\\\`` at
        its end is one literal ``\\`` (and the message ends)."""
        typed = typed.rstrip("\r\n")
        if typed.endswith("\\\\"):
            return cls(typed[:-1], False)
        if typed.endswith("\\"):
            return cls(typed[:-1], True)
        return cls(typed, False)


def join_lines(lines: list[str]) -> str:
    """The message made of the lines of a ``\\``-continued input (each newline kept)."""
    return "\n".join(lines)


def one_line(text: str) -> str:
    """A message shown on one line: its line breaks (an exception's message may have some) as spaces."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
