"""An OpenAI-compatible Chat Completions server on 127.0.0.1 that answers every request after a fixed delay.

It stands for a remote LLM endpoint, so it should add nothing of its own to the delay and take as little of
this machine's CPU as it can: uvicorn (uvloop, httptools) on one event loop in a thread, where every request
waits with ``asyncio.sleep``. A thread per connection (``http.server``) made 64 threads wake together and
queue for the GIL, adding tens of milliseconds to the answers under load and a fifth of a core.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SlowServer:
    """Answers POST /v1/chat/completions after ``delay_s``; counts requests and peak concurrency."""

    def __init__(self, delay_s: float = 0.1) -> None:
        self.delay_s = delay_s
        self.requests = 0
        self.in_flight = 0
        self.peak = 0
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off",
                                interface="asgi3")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        while not self._server.started:  # answers from the first request on
            if not self._thread.is_alive():
                raise RuntimeError("the slow OpenAI server did not start")
            threading.Event().wait(0.01)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body or b"{}")
        self.requests += 1  # one event loop: no lock needed
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.delay_s)
        self.in_flight -= 1
        answer = {"id": "b", "object": "chat.completion", "created": 0, "model": request.get("model", "m"),
                  "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
                  "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
        data = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/v1"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
