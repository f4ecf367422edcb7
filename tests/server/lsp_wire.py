"""A small synchronous LSP client over the real server's stdio, for the fuzz test and bench/lsp.py.

It frames JSON-RPC with frames.py, keeps the notifications it reads past, and fails
loudly on error responses. (The pytest-lsp tests use pytest-lsp's asynchronous client.)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from frames import read_frame, write_frame


class WireClient:
    """Starts `python -m flowline lsp` and talks to it."""

    def __init__(self, root: Path, *options: str) -> None:
        # stderr goes to a file: a pipe nobody reads would block the server once it fills up.
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "flowline", "lsp", *options], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr)
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []
        self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {
            "textDocument": {"completion": {"completionItem": {"snippetSupport": True}}},
            "general": {"positionEncodings": ["utf-16"]}}})
        self.notify("initialized", {})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        write_frame(self.process.stdin, message)

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        message = read_frame(self.process.stdout)
        if message is None:
            raise RuntimeError("the language server closed its output")
        return message

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        """Send a request and return its result (notifications read meanwhile are kept)."""
        self.next_id += 1
        ident = self.next_id
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        while True:
            message = self._read()
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result")
            if "method" in message:
                if "id" in message:  # a request from the server (e.g. registration): answer it
                    self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                else:
                    self.notifications.append(message)

    def wait_for(self, method: str, predicate: Any = lambda params: True, timeout: float = 30) -> dict[str, Any]:
        """The first (kept or new) notification of ``method`` whose params satisfy ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.notifications):
                if message["method"] == method and predicate(message["params"]):
                    return self.notifications.pop(index)
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            message = self._read()
            if "method" in message and "id" not in message:
                self.notifications.append(message)

    def rss_mb(self) -> float:
        """The server's resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kilobytes / 1024

    def close(self) -> str:
        """Shut the server down; returns what it wrote on stderr."""
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", errors="replace")
