"""A real HTTP server on 127.0.0.1 speaking the Chat Completions and Completions APIs, for tests.

It records every request it receives. By default a chat answer is ``echo: <last user text>`` and
a completion is ``completed: <prompt>``, with usage counted in words; an embedding is ``[characters,
words, 0.5]`` of the input. Tests can queue failures
(status, headers, body) that are answered first, name a model that does not exist, require an API
key, and ask for tool calls. Streaming answers are SSE, one word per chunk, with a usage chunk when
``stream_options.include_usage`` is set.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KNOWN_MODELS = {"test-model", "gpt-test", "smollm2"}
CONTEXT_LIMIT_CHARS = 2000


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class FakeOpenAI:
    """Start with ``start()``; ``url`` is the base URL to put in a connection."""

    api_key: str = "sk-test-secret-1234567890"
    requests: list[Received] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    rejects_stream_options: bool = False
    """Answer 400 to a request with ``stream_options``, as some OpenAI-compatible servers do."""
    empty_streams: bool = False
    """Answer a streamed request with 200 and an event stream that ends without a chunk, as llama.cpp's server
    does when the prompt is longer than its context."""
    chunk_gate: threading.Event | None = None
    """When given, a streamed answer waits (10 s at most) for it to be set after its first chunk, so a test can
    see that chunk arrive before the rest."""
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(Received(self.path, body, dict(self.headers), time.monotonic()))
                owner.answer(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- answering --------------------------------------------------------------------------------

    def _json(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str, code: str) -> None:
        self._json(handler, status, {"error": {"message": message, "type": "invalid_request_error", "code": code}})

    def answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if self.failures:
            status, headers, payload = self.failures.pop(0)
            self._json(handler, status, payload, headers)
            return
        authorized = (handler.headers.get("Authorization") == f"Bearer {self.api_key}"
                      or handler.headers.get("api-key") == self.api_key)
        if not authorized:
            self._error(handler, 401, "Incorrect API key provided: " + str(handler.headers.get("Authorization")),
                        "invalid_api_key")
            return
        if self.rejects_stream_options and "stream_options" in body:
            self._error(handler, 400, "Unrecognized request argument supplied: stream_options", "invalid_request")
            return
        model = body.get("model") or handler.path.split("/deployments/")[-1].split("/")[0]
        if model not in KNOWN_MODELS:
            self._error(handler, 404, f"The model `{model}` does not exist", "model_not_found")
            return
        if len(json.dumps(body.get("messages") or body.get("prompt"))) > CONTEXT_LIMIT_CHARS:
            self._error(handler, 400, "This model's maximum context length is 500 tokens.",
                        "context_length_exceeded")
            return
        if handler.path.split("?")[0].endswith("/embeddings"):
            text = str(body.get("input"))
            vector = [float(len(text)), float(len(text.split())), 0.5]  # the text's length, its word count, 0.5
            self._json(handler, 200, {"object": "list", "model": model, "data": [
                {"object": "embedding", "index": 0, "embedding": vector}],
                "usage": {"prompt_tokens": len(text.split()), "total_tokens": len(text.split())}})
            return
        chat = handler.path.split("?")[0].endswith("/chat/completions")
        if chat:
            last = next((m for m in reversed(body["messages"]) if m["role"] == "user"), {"content": ""})
            content = last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])
            text = f"echo: {content}"
            prompt_words = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        else:
            text = f"completed: {body['prompt']}"
            prompt_words = len(str(body["prompt"]).split())
        words = text.split(" ")
        usage = {"prompt_tokens": prompt_words, "completion_tokens": len(words),
                 "total_tokens": prompt_words + len(words)}
        if body.get("stream"):
            self._stream(handler, words, usage, chat, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        if chat:
            message: dict[str, Any] = {"role": "assistant", "content": text}
            finish = "stop"
            if body.get("tools"):
                name = body["tools"][0]["function"]["name"]
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}]}
                finish = "tool_calls"
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "finish_reason": "stop"}
            obj = "text_completion"
        self._json(handler, 200, {"id": "x-1", "object": obj, "created": 0, "model": model,
                                  "choices": [choice], "usage": usage})

    def _stream(self, handler: BaseHTTPRequestHandler, words: list[str], usage: dict[str, int], chat: bool,
                include_usage: bool) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        if self.empty_streams:
            handler.wfile.flush()
            return
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        for piece in pieces:
            if chat:
                choice: dict[str, Any] = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                obj = "chat.completion.chunk"
            else:
                choice = {"index": 0, "text": piece, "finish_reason": None}
                obj = "text_completion"
            chunk = {"id": "x-1", "object": obj, "created": 0, "model": "test-model", "choices": [choice]}
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
            if self.chunk_gate is not None:
                self.chunk_gate.wait(10)
        if include_usage:
            chunk = {"id": "x-1", "object": "chat.completion.chunk", "created": 0, "model": "test-model",
                     "choices": [], "usage": usage}
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
