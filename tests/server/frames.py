"""Content-Length framing of JSON messages on a byte stream: the base protocol LSP and DAP share.

Used by the test suite's stdio clients (lsp_wire.py for the language server, dap_client.py for
debugpy's adapter).
"""

from __future__ import annotations

import json
from typing import IO, Any


def write_frame(stream: IO[bytes], message: dict[str, Any]) -> None:
    """Send one message: a Content-Length header, a blank line, the JSON body."""
    body = json.dumps(message).encode()
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or ``None`` once the stream has ended."""
    length = 0
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    message: dict[str, Any] = json.loads(stream.read(length))
    return message
