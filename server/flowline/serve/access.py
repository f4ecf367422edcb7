"""Request ids and the access log: one line on stderr per answered request.

Each request gets an id (the ``x-request-id`` header it sent when that is a plain token, else a new one),
echoed in the answer's ``x-request-id``. When the answer is done one line is written:
``<date> <time> <METHOD> <path> <status> <duration> ms request_id=<id>``, dated as the server's other log lines
(:func:`flowline.serve.server.configure_logging`). The path is written as the request sent it
(``scope["raw_path"]``, still percent-encoded), any byte that is no printable ASCII %-encoded: no request
can forge a log line (``%0a``) or color the terminal (``%1b[31m``).

A request still running when the server's grace period after SIGTERM runs out is canceled: it is answered
503 ``ShuttingDown`` in the usual error shape (or, when its answer had begun, ended), with one log line and no
traceback.

The line is formatted here and written with one call rather than through :mod:`logging`: a record, the
caller lookup and a formatter per request were about a tenth of the server's CPU under load.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""How log lines are dated (local time, to the second)."""

# A caller's request id is echoed only when it is a plain token: it goes into a header and the log.
_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")

log = logging.getLogger("flowline.serve")

_SHUTTING_DOWN = json.dumps({"error": {"code": "ShuttingDown", "message": (
    "The server stopped before this request finished: its grace period after SIGTERM ran out "
    "(flowline flow serve --grace-period). Send the request again.")}}).encode()


def loggable_path(scope: Scope) -> str:
    """The request's path as sent (percent-encoded), every byte that is no printable ASCII as ``%XX``."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    return "".join(chr(b) if 0x21 <= b < 0x7F else f"%{b:02X}" for b in raw)


class AccessLog:
    """Writes access lines to a text stream, one ``write`` each (the stream flushes complete lines)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._second = -1
        self._stamp = ""

    def write(self, method: str, path: str, status: int, duration_ms: float, request_id: str) -> None:
        """One line for an answered request; ``duration_ms`` from the request's start to its answer's end."""
        now = time.time()
        if int(now) != self._second:  # formatted once per second: requests come many a second
            self._second = int(now)
            self._stamp = time.strftime(TIME_FORMAT, time.localtime(now))
        self._stream.write(f"{self._stamp} {method} {path} {status} {duration_ms:.1f} ms request_id={request_id}\n")


class RequestLog:
    """ASGI middleware: gives each request its id (``x-request-id``), echoes it, and writes one access log
    line when the answer is done: method, path, status, duration, request id."""

    def __init__(self, app: ASGIApp, log: AccessLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500  # when the app ends without answering
        answering = False
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status = message["status"]
                answering = True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            # Only the server cancels a request's task: its grace period ran out (see the module).
            log.warning("request %s: canceled: the server stopped before it finished (grace period over)",
                        request_id)
            if not answering:
                status = 503
                await send({"type": "http.response.start", "status": 503, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(_SHUTTING_DOWN)).encode()),
                    (b"connection", b"close"), header]})
                await send({"type": "http.response.body", "body": _SHUTTING_DOWN})
        finally:
            self.log.write(scope["method"], loggable_path(scope), status, (time.perf_counter() - started) * 1000,
                           request_id)
