"""``flowline flow test --interactive``: chatting with a chat flow in the terminal.

``User: `` asks for a message (a line ending with ``\\`` goes on in the next one); ``Bot: `` shows the chat
output as it streams, or whole when it does not stream. ``/history`` prints the history as JSON, ``/clear``
empties it, ``/exit`` or Ctrl-D ends the chat. Ctrl-C while a turn runs cancels that turn; at the prompt it
clears what was typed, and a second Ctrl-C on an empty prompt ends the chat. SIGTERM, SIGHUP or SIGQUIT
(Ctrl-\\) at the prompt end the chat with exit code 128 + the signal's number, the terminal's settings put back
(readline has the terminal in raw mode while it waits for a line). A failed turn is one line on stderr and
the chat goes on. What tools print goes to stderr, indented under their node's name; while an answer streams
it waits for the answer's end so the ``Bot:`` line stays whole. Answers and tools' lines are written with their
control characters escaped (:func:`~flowline.chat.history.printable`). When stdin is not a terminal, each line
read is written after its prompt, so the output reads as the conversation.

The terminal (reading a line, the streams written to) is passed in as a :class:`Console`, so the loop does not
care whether it talks to a person, a pseudo-terminal or a pipe.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import IO, Any, Protocol

from flowline.chat.history import (
    Line,
    answer_text,
    command_of,
    history_text,
    join_lines,
    printable,
    unknown_command,
)
from flowline.chat.session import ChatSession, TurnEnd
from flowline.engine.scheduler import CANCELED, COMPLETED

PROMPT = "User: "
MORE = "...   "
BOT = "Bot: "
KEYS = "Enter sends; end a line with \\ to go on; /history, /clear, /exit (or Ctrl-D); Ctrl-C stops a turn."


class PromptInterrupted(Exception):
    """Ctrl-C at the prompt; ``typed`` is what had been typed of the message (empty when nothing was)."""

    def __init__(self, typed: str) -> None:
        super().__init__(typed)
        self.typed = typed


class PromptKilled(Exception):
    """A signal that ends the process (SIGTERM, SIGHUP, SIGQUIT) arrived at the prompt; ``signum`` is its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))
"""The signals that end the chat from the prompt, the terminal restored first (:class:`PromptKilled`)."""


class Console(Protocol):
    """The terminal a chat talks to: ``read`` returns a typed line (raises ``EOFError`` at Ctrl-D,
    :class:`PromptInterrupted` at Ctrl-C, :class:`PromptKilled` at an :data:`ENDING_SIGNALS` signal); ``out``
    carries the chat, ``err`` the rest."""

    out: IO[str]
    err: IO[str]

    def read(self, prompt: str) -> str:
        """One line typed after ``prompt``, without its end of line."""


class StdConsole:
    """The process's own terminal: ``input()``, with line editing (GNU readline) where there is one. When
    stdin is not a terminal, the line read is written after the prompt (the output then reads as the
    conversation rather than ``User: Bot: ...``)."""

    def __init__(self, out: IO[str], err: IO[str], stdin: IO[str]) -> None:
        self.out = out
        self.err = err
        self._stdin = stdin
        self._tty = stdin.isatty()
        self._readline: Any = None
        self._termios: list[Any] | None = None  # the terminal's settings at the start, put back when killed
        if self._tty:
            try:
                import readline  # noqa: F401 - importing it gives input() line editing and history
            except ImportError:  # Windows: the console edits lines itself
                pass
            else:
                self._readline = readline
            try:
                import termios

                self._termios = termios.tcgetattr(stdin.fileno())
            except (ImportError, OSError, ValueError):  # Windows, or no settings to read
                pass

    def read(self, prompt: str) -> str:
        """``input(prompt)``; Ctrl-C raises :class:`PromptInterrupted` with the line as typed so far (when
        readline can tell it; else empty); an :data:`ENDING_SIGNALS` signal raises :class:`PromptKilled`, the
        terminal's settings put back (readline puts back its own too when a signal handler raises)."""
        typed = [""]

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            if self._readline is not None:
                typed[0] = self._readline.get_line_buffer()
            raise KeyboardInterrupt

        def on_ending(signum: int, frame: FrameType | None) -> None:
            raise PromptKilled(signum)

        try:
            with _handlers({signal.SIGINT: on_sigint, **dict.fromkeys(ENDING_SIGNALS, on_ending)}):
                try:
                    return input(prompt) if self._tty else self._read_piped(prompt)
                except KeyboardInterrupt:
                    raise PromptInterrupted(typed[0]) from None
        except PromptKilled:
            self._restore_terminal()
            raise

    def _read_piped(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        line = self._stdin.readline()
        if not line:
            raise EOFError
        line = line.rstrip("\r\n")
        self.out.write(printable(line) + "\n")
        return line

    def _restore_terminal(self) -> None:
        if self._termios is None:
            return
        import termios

        try:
            termios.tcsetattr(self._stdin.fileno(), termios.TCSADRAIN, self._termios)
        except (OSError, termios.error):
            pass  # the terminal is gone (SIGHUP when it closed)


@contextmanager
def _handlers(handlers: dict[int, Any]) -> Iterator[None]:
    """``handlers`` for their signals within the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class AnswerView:
    """Shows one turn on the console: ``Bot: `` and the chat output's chunks as they come; tools' lines on
    ``err`` (held back while the answer line is being written)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self.started = False
        self._held: list[str] = []

    def token(self, text: str) -> None:
        """Write a chunk of the answer (``Bot: `` before the first)."""
        out = self._console.out
        if not self.started:
            self.started = True
            out.write(BOT)
        out.write(printable(text))
        out.flush()

    def log(self, node: str, stream: str, line: str) -> None:
        """A line a node printed, now or after the answer."""
        text = f"  [{node}] {printable(line)}\n"
        if self.started:
            self._held.append(text)
        else:
            self._console.err.write(text)
            self._console.err.flush()

    def finish(self, end: TurnEnd) -> None:
        """End the turn's output: the answer whole (when it did not stream), ``(canceled)``, or the failure."""
        out, err = self._console.out, self._console.err
        if end.status == COMPLETED and not self.started:
            out.write(BOT + printable(answer_text(end.answer)))
        if self.started or end.status == COMPLETED:
            out.write("\n")
        if end.status == CANCELED:
            out.write("(canceled)\n")
        out.flush()
        for text in self._held:
            err.write(text)
        if end.failure is not None:
            err.write(printable(end.failure) + "\n")
        err.flush()


def banner(session: ChatSession) -> str:
    """The lines the chat starts with: the flow, its chat roles, the keys."""
    roles = session.roles
    output = f", output '{roles.output.name}'" if roles.output is not None else ""
    return (f"Chatting with flow '{session.name}' (message: input '{roles.input.name}', history: input "
            f"'{roles.history.name}'{output}).\n{KEYS}\n")


def read_message(console: Console) -> str:
    """One message: a line, and the lines after it while each ends with ``\\`` (Ctrl-C drops them all; Ctrl-D
    after a ``\\`` sends the lines typed so far)."""
    lines: list[str] = []
    prompt = PROMPT
    while True:
        try:
            line = Line.of(console.read(prompt))
        except PromptInterrupted as exc:
            raise PromptInterrupted(join_lines([*lines, exc.typed]).strip()) from None
        except EOFError:
            if not lines:
                raise
            console.out.write("\n")
            return join_lines(lines)
        lines.append(line.text)
        if not line.continues:
            return join_lines(lines)
        prompt = MORE


def chat(session: ChatSession, console: Console) -> int:
    """Hold the conversation until ``/exit``, Ctrl-D or a second Ctrl-C on an empty prompt (exit code 0), or
    a signal of :data:`ENDING_SIGNALS` at the prompt (exit code 128 + its number)."""
    out = console.out
    out.write(banner(session))
    out.flush()
    interrupted = False  # the last thing at the prompt was a Ctrl-C on an empty line
    while True:
        try:
            message = read_message(console)
        except EOFError:
            out.write("\n")
            out.flush()
            return 0
        except PromptKilled as exc:
            try:
                out.write("\n")
                out.flush()
            except OSError:  # SIGHUP: the terminal is gone
                pass
            return 128 + exc.signum
        except PromptInterrupted as exc:
            out.write("\n")
            if not exc.typed and interrupted:
                out.flush()
                return 0
            interrupted = not exc.typed
            if interrupted:
                out.write("(Ctrl-C again, /exit or Ctrl-D ends the chat)\n")
            out.flush()
            continue
        interrupted = False
        if not message.strip():
            continue  # as promptflow: an empty message is not sent
        word = command_of(message)
        if word == "/exit":
            return 0
        try:
            _answer(session, console, message, word)
        except KeyboardInterrupt:  # Ctrl-C in the moment between a turn's end and the next prompt
            out.write("\n")
        out.flush()


def _answer(session: ChatSession, console: Console, message: str, word: str | None) -> None:
    """Answer a command (``word``), or run a turn with the message."""
    out = console.out
    if word == "/history":
        out.write(printable(history_text(session.history)) + "\n")
    elif word == "/clear":
        session.clear()
        out.write("(history cleared)\n")
    elif word is not None:
        out.write(unknown_command(word) + "\n")
    else:
        view = AnswerView(console)
        view.finish(session.turn(message, view))
