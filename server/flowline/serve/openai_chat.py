"""``POST /v1/chat/completions``: a chat flow in OpenAI's Chat Completions shape, so any OpenAI client,
SDK or chat UI can talk to it (promptflow has no such endpoint).

The last message (a user's) becomes the chat input; the earlier user and assistant turns become the chat
history in promptflow's form, ``[{"inputs": {<chat input>: user}, "outputs": {<chat output>: assistant}}]``;
a user message with no answer after it (two user messages in a row) is a turn whose answer is empty, so no
question is lost. The flow's other inputs take their defaults. The chat output is the assistant's message;
``stream: true`` answers with OpenAI's ``chat.completion.chunk`` events and ``data: [DONE]``.

What the flow cannot take is left out: system, developer and tool messages (the flow's own prompt speaks for
it), a message's parts other than text (images), ``temperature`` and the other sampling options (the flow's
nodes set their own), ``stream_options``. What cannot be honoured is refused with 400: ``n`` other than 1,
``stream`` that is no boolean, a last user message without text.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from flowline.engine.events import to_jsonable
from flowline.engine.scheduler import LineResult
from flowline.serve.errors import ApiError
from flowline.serve.live import LineEnded, LiveLine, Token
from flowline.serve.served import ServedFlow, request_inputs


def _text(content: Any, index: int) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise ApiError(400, "InvalidRequest", f"messages[{index}].content must be a string or a list of parts.")


def chat_inputs(served: ServedFlow, body: Any) -> dict[str, Any]:
    """The flow inputs of a Chat Completions request (see the module). Raises :class:`ApiError` 400 for a
    request that is not one, 404 when the flow is no chat flow."""
    chat_input, chat_history, chat_output = served.chat_input, served.chat_history, served.chat_output
    if chat_input is None or chat_output is None:
        raise ApiError(404, "NotAChatFlow", f"Flow '{served.name}' is not a chat flow (no input marked is_chat_input "
                       "and output marked is_chat_output), so it has no /v1/chat/completions; call POST /score.")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ApiError(400, "InvalidRequest", "The request needs 'messages': a non-empty list of "
                       "{\"role\", \"content\"} objects, the last one the user's.")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "InvalidRequest", f"'stream' must be true or false, not {json.dumps(stream)}.")
    n = body.get("n", 1)
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n != 1):
        raise ApiError(400, "InvalidRequest", f"'n' must be 1: a flow gives one answer (got {json.dumps(n)}).")
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(body["messages"]):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(400, "InvalidRequest", f"messages[{index}] must be an object with a 'role'.")
        if message["role"] in ("user", "assistant"):
            turns.append((message["role"], _text(message.get("content"), index)))
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "InvalidRequest", "The last message must be the user's: it is the chat input.")
    if not turns[-1][1].strip():
        raise ApiError(400, "InvalidRequest", "The last user message has no text (its content is empty, null or has "
                       "no text part); it is the chat input.")
    history: list[dict[str, Any]] = []
    asked: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            if asked is not None:  # two user turns in a row: the first went unanswered
                history.append({"inputs": {chat_input.name: asked}, "outputs": {chat_output.name: ""}})
            asked = text
        else:
            history.append({"inputs": {chat_input.name: asked or ""}, "outputs": {chat_output.name: text}})
            asked = None
    if asked is not None:  # the user turn before the last one went unanswered too
        history.append({"inputs": {chat_input.name: asked}, "outputs": {chat_output.name: ""}})
    given: dict[str, Any] = {chat_input.name: turns[-1][1]}
    if chat_history is not None:
        given[chat_history.name] = history
    return request_inputs(served, given)


class Completion:
    """The answer's fixed parts: id, creation time and model name (the request's, else the flow's name)."""

    def __init__(self, served: ServedFlow, body: dict[str, Any], request_id: str) -> None:
        self.served = served
        self.id = f"chatcmpl-{request_id}"
        self.created = int(time.time())
        model = body.get("model")
        self.model = model if isinstance(model, str) and model else served.name

    def content(self, result: LineResult) -> str:
        """The chat output as the assistant's text (JSON when the output is not text)."""
        assert self.served.chat_output is not None and result.outputs is not None
        value = to_jsonable(result.outputs.get(self.served.chat_output.name))
        return value if isinstance(value, str) else json.dumps(value)

    def answer(self, result: LineResult) -> dict[str, Any]:
        """The ``chat.completion`` object; usage is the flow's LLM token counts (0 without LLM nodes)."""
        tokens = result.tokens
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content(result)},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": tokens.get("prompt", 0), "completion_tokens": tokens.get("completion", 0),
                          "total_tokens": tokens.get("total", 0)}}

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        """One ``chat.completion.chunk`` event."""
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}
        return f"data: {json.dumps(data)}\n\n".encode()


async def first_token(live: LiveLine, node: str | None) -> tuple[list[str], LineEnded | None]:
    """Wait until the chat output's node streams its first token or the line ends: the answer's status is
    known then. Raises the request's :class:`ApiError` when the line failed first."""
    while True:
        happened = await live.next()
        if isinstance(happened, Token) and happened.node == node:
            return [happened.text], None
        if isinstance(happened, LineEnded):
            if happened.error is not None:
                raise happened.error
            return [], happened


async def stream_answer(completion: Completion, live: LiveLine, node: str | None, early: list[str],
                        ended: LineEnded | None) -> AsyncIterator[bytes]:
    """The streamed answer: a role chunk, one chunk per token of the chat output (or its whole text when it
    does not stream), a closing chunk, ``[DONE]``. A failure mid-stream ends it with an error event."""
    try:
        yield completion.chunk({"role": "assistant", "content": ""})
        for text in early:
            yield completion.chunk({"content": text})
        while ended is None:
            happened = await live.next()
            if isinstance(happened, Token) and happened.node == node:
                yield completion.chunk({"content": happened.text})
            elif isinstance(happened, LineEnded):
                ended = happened
        if ended.error is not None:
            live.failed_midway(ended.error)
            yield f"data: {json.dumps(ended.error.body())}\n\n".encode()
            return
        assert ended.result is not None
        if not early and ended.result.outputs is not None:  # the chat output did not stream: its whole text
            text = completion.content(ended.result)
            if text:
                yield completion.chunk({"content": text})
        yield completion.chunk({}, "stop")
        yield b"data: [DONE]\n\n"
    finally:
        live.close()


def chat_output_node(served: ServedFlow) -> str | None:
    """The node whose tokens are the chat output's, when they stream (the output is that node's whole output)."""
    output = served.chat_output
    ref = output.reference.reference if output is not None and output.reference is not None else None
    if ref is not None and ref.kind == "node" and not ref.steps and ref.name in served.executable.streaming:
        return ref.name
    return None
