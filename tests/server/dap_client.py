"""A small Debug Adapter Protocol client over the stdio of debugpy's real adapter (no VS Code).

A reader thread parses Content-Length frames into a queue; requests wait for their response and
keep the events read past, so a test can ask for "the next stopped event" in protocol order.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

from frames import read_frame, write_frame

TIMEOUT = 60.0


class DapError(Exception):
    """A request the adapter refused, or a message that did not come in time."""


class DapClient:
    """Starts ``python -m debugpy.adapter`` and speaks DAP to it."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "debugpy.adapter"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log)
        self.seq = 0
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while (message := read_frame(stream)) is not None:
            self.messages.put(message)
        self.messages.put(None)

    def _pump(self, deadline: float) -> None:
        """Read one message into ``events`` / ``responses`` (a reverse request gets an empty answer)."""
        try:
            message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise DapError(f"no message from the adapter in time; events so far: {self.event_names()}") from None
        if message is None:
            raise DapError(f"the adapter closed its output; events so far: {self.event_names()}")
        if message["type"] == "event":
            self.events.append(message)
        elif message["type"] == "response":
            self.responses[message["request_seq"]] = message
        elif message["type"] == "request":
            self._send({"type": "response", "request_seq": message["seq"], "success": True,
                        "command": message["command"], "body": {}})

    def _send(self, message: dict[str, Any]) -> int:
        self.seq += 1
        assert self.process.stdin is not None
        write_frame(self.process.stdin, {"seq": self.seq, **message})
        return self.seq

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        """Send a request without waiting; returns its sequence number for :meth:`response`."""
        return self._send({"type": "request", "command": command, "arguments": arguments or {}})

    def response(self, seq: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The body of the response to request ``seq``; a refused request raises :class:`DapError`."""
        deadline = time.monotonic() + timeout
        while seq not in self.responses:
            self._pump(deadline)
        message = self.responses.pop(seq)
        if not message["success"]:
            raise DapError(f"{message['command']} failed: {message.get('message')} {message.get('body')}")
        body: dict[str, Any] = message.get("body") or {}
        return body

    def request(self, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and wait for its response body."""
        return self.response(self.send(command, arguments))

    def event(self, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The body of the next event ``name`` not yet taken (earlier events of other names stay)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event["event"] == name:
                    del self.events[index]
                    body: dict[str, Any] = event.get("body") or {}
                    return body
            self._pump(deadline)

    def event_names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def output(self) -> str:
        """Everything the debuggee printed so far (the adapter's ``output`` events)."""
        return "".join(e["body"].get("output", "") for e in self.events if e["event"] == "output")

    def close(self) -> str:
        """Stop the adapter; returns what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.log.seek(0)
        return self.log.read().decode(errors="replace")
