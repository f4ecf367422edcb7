"""The ``llm`` node: render the template, call the model through the ``openai`` client, return text.

Connection types ``open_ai`` (OpenAI or any OpenAI-compatible server via ``base_url``) and
``azure_open_ai``. The openai client retries 429 and 5xx answers with exponential backoff and
honours ``Retry-After``; ``FLOWLINE_LLM_MAX_RETRIES`` (default 3) bounds the retries and
``FLOWLINE_LLM_TIMEOUT`` (default 120 s) each call. Failures become one message naming the node,
the connection and the endpoint — never the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flowline.connections.model import Connection
from flowline.engine.chat_prompt import ChatPromptError, build_messages
from flowline.engine.llm_cache import LLMCache
from flowline.engine.nodes import NodeContext
from flowline.flow.llm_parameters import LLM_CONNECTION_TYPES
from flowline.flow.llm_parameters import PARAMETERS as LLM_PARAMETERS
from flowline.flow.templates import render
from flowline.flow.types import convert_node_input

# Parameters passed through to the API, with the flow type their literal values are read as.
PARAMETERS: dict[str, str] = {parameter.name: parameter.type for parameter in LLM_PARAMETERS}
# Inputs that configure the node itself (custom_llm passes them as inputs).
NODE_SETTINGS = frozenset({"connection", "api", "detail", "stream"})


class LLMError(Exception):
    """A failed model call, described for the user (no secrets)."""


def _setting(name: str, default: float) -> float:
    """A number from the environment (``default`` when unset); :class:`LLMError` when it is no number >= 0."""
    text = os.environ.get(name)
    try:
        value = default if text is None else float(text)
    except ValueError:
        value = -1
    if not value >= 0:  # also NaN
        raise LLMError(f"{name}={text!r} is not a number of 0 or more; set it to one (default {default:g}) "
                       "or unset it.")
    return value


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "******")
    return text


@dataclass
class LLMRunner:
    """Runs an ``llm`` (or ``custom_llm``) node."""

    node: str
    template: str
    template_name: str
    api: str
    connection: Connection
    flow_dir: Path
    cache: LLMCache | None = None
    _client: Any = field(default=None, repr=False)
    _usage_in_streams: bool = field(default=True, repr=False)
    """Whether the endpoint takes ``stream_options`` (some OpenAI-compatible servers answer 400)."""

    def has_default(self, name: str) -> bool:
        return name in PARAMETERS or name in NODE_SETTINGS

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        return convert_node_input(node, name, value, PARAMETERS.get(name))

    @property
    def base_url(self) -> str:
        """The base URL the node calls, as the connection gives it (a user and password in it too)."""
        conn = self.connection
        if conn.TYPE == "azure_open_ai":
            return str(conn.configs.get("api_base", ""))
        return str(conn.configs.get("base_url") or "https://api.openai.com/v1")

    @property
    def endpoint(self) -> str:
        """The base URL as messages show it: without the ``user:password@`` a URL may carry."""
        return shown_url(self.base_url)

    def client(self) -> Any:
        """The openai client for the node's connection (created once)."""
        if self._client is None:
            import openai

            conn = self.connection
            if conn.TYPE not in LLM_CONNECTION_TYPES:
                raise LLMError(f"Node '{self.node}': connection '{conn.name}' has type '{conn.TYPE}'; LLM nodes "
                               "need an open_ai or azure_open_ai connection.")
            retries, timeout = _setting("FLOWLINE_LLM_MAX_RETRIES", 3), _setting("FLOWLINE_LLM_TIMEOUT", 120)
            try:
                if conn.TYPE == "azure_open_ai":
                    self._client = openai.AsyncAzureOpenAI(
                        api_key=conn.secrets.get("api_key"), azure_endpoint=self.base_url,
                        api_version=str(conn.configs.get("api_version") or "2024-10-21"),
                        max_retries=int(retries), timeout=timeout)
                else:
                    self._client = openai.AsyncOpenAI(
                        api_key=conn.secrets.get("api_key"), base_url=conn.configs.get("base_url") or None,
                        organization=conn.configs.get("organization") or None, max_retries=int(retries),
                        timeout=timeout)
            except (openai.OpenAIError, ValueError) as exc:  # e.g. no api_key, no endpoint
                message = _scrub(str(exc), list(conn.secrets.values()))
                raise LLMError(f"Node '{self.node}': connection '{conn.name}' cannot be used: {message} Set the "
                               f"missing field with `flowline connection create --file <file>.yaml --name "
                               f"{conn.name}`.") from None
        return self._client

    def request(self, inputs: dict[str, Any], untrusted: frozenset[str]) -> dict[str, Any]:
        """The canonical request for these inputs: API, model, messages or prompt, parameters."""
        params = {k: v for k, v in inputs.items() if k in PARAMETERS and v is not None}
        model = params.pop("deployment_name", None) or params.pop("model", None)
        params.pop("model", None)
        if not model:
            raise LLMError(f"Node '{self.node}' needs 'deployment_name' (or 'model') among its inputs.")
        variables = {k: v for k, v in inputs.items() if k not in PARAMETERS and k not in NODE_SETTINGS}
        request: dict[str, Any] = {"api": self.api, "model": model, "params": params}
        if self.api == "completion":
            request["prompt"] = render(self.template, variables)
        else:
            try:
                request["messages"] = build_messages(self.template, variables, untrusted, self.flow_dir)
            except ChatPromptError as exc:
                raise ChatPromptError(f"Node '{self.node}': {self.template_name} line "
                                      f"{_template_line(self.template, exc.fragment)}: {exc}") from None
        return request

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        request = self.request(inputs, ctx.untrusted)
        ctx.on_prompt(request.get("messages", request.get("prompt")))
        stream = ctx.stream and not request["params"].get("tools") and not request["params"].get("functions")
        if self.cache is not None and self.cache.mode == "replay":
            response = self.cache.load(request)
            if response is None:
                raise LLMError(f"Node '{self.node}': no recorded response for this request in "
                               f"{self.cache.folder} (key {self.cache.path(request).stem}); record it first with "
                               f"--llm-cache record. Request: {str(request)[:300]}")
            chunks = response.get("chunks") or ([response["output"]] if isinstance(response["output"], str) else [])
            if stream:
                for chunk in chunks:
                    ctx.on_token(chunk)
            if response.get("usage"):
                ctx.add_usage(response["usage"])
            return response["output"]
        response = await self._call_model(request, stream, ctx)
        if self.cache is not None:
            self.cache.save(request, response)
        return response["output"]

    async def _call_model(self, request: dict[str, Any], stream: bool, ctx: NodeContext) -> dict[str, Any]:
        import openai
        from openai.types import Completion
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        client = self.client()
        params = dict(request["params"])
        completion = request["api"] == "completion"
        # The client's generic `post` (its documented way to send a request body as is): the
        # parameters are already plain JSON, so the per-call type transform of `create` is skipped.
        path, result_type = ("/completions", Completion) if completion else ("/chat/completions", ChatCompletion)
        stream_type: Any = openai.AsyncStream[Completion] if completion else openai.AsyncStream[ChatCompletionChunk]
        body = {"model": request["model"], **({"prompt": request["prompt"]} if completion else
                                              {"messages": request["messages"]}), **params}
        try:
            if stream:
                events = await self._open_stream(client, path, body, result_type, stream_type)
                return await self._stream(events, completion, ctx)
            result = await client.post(path, cast_to=result_type, body=body)
        except openai.APIError as exc:
            raise self._describe(exc, request["model"]) from None
        usage = _usage(result.usage)
        if usage:
            ctx.add_usage(usage)
        choice = result.choices[0]
        if completion:
            output: Any = choice.text
        elif params.get("tools") or params.get("functions"):
            output = result.model_dump()["choices"][0]["message"]
        else:
            output = choice.message.content or ""
        return {"output": output, "usage": usage}

    async def _open_stream(self, client: Any, path: str, body: dict[str, Any], result_type: Any,
                           stream_type: Any) -> Any:
        """The server's event stream for ``body``. OpenAI endpoints are asked for usage in the stream
        (``stream_options``), which some OpenAI-compatible servers reject with 400: then the request
        goes once more without it, and when that is taken this node does not send the option again.
        Raises ``openai.APIError`` as the client does."""
        import openai

        streamed = {**body, "stream": True}
        if self.connection.TYPE == "open_ai" and self._usage_in_streams:
            try:
                return await client.post(path, cast_to=result_type, stream=True, stream_cls=stream_type,
                                         body={**streamed, "stream_options": {"include_usage": True}})
            except openai.BadRequestError:
                events = await client.post(path, cast_to=result_type, body=streamed, stream=True,
                                           stream_cls=stream_type)
                self._usage_in_streams = False
                return events
        return await client.post(path, cast_to=result_type, body=streamed, stream=True, stream_cls=stream_type)

    async def _stream(self, events: Any, completion: bool, ctx: NodeContext) -> dict[str, Any]:
        chunks: list[str] = []
        usage: dict[str, int] = {}
        finished = False
        async for event in events:
            if getattr(event, "usage", None):
                usage = _usage(event.usage)
            if not event.choices:
                continue
            choice = event.choices[0]
            finished = finished or bool(getattr(choice, "finish_reason", None))
            text = choice.text if completion else choice.delta.content
            if text:
                chunks.append(text)
                ctx.on_token(text)
        if not chunks and not finished:
            # llama.cpp's server answers a prompt longer than its context with 200 and an empty event stream.
            raise LLMError(f"Node '{self.node}' (connection '{self.connection.name}', endpoint {self.endpoint}): "
                           "the model server ended the stream without an answer (no text, no finish_reason); the "
                           "prompt may be longer than its context.")
        if usage:
            ctx.add_usage(usage)
        return {"output": "".join(chunks), "chunks": chunks, "usage": usage}

    def _describe(self, exc: Exception, model: str) -> LLMError:
        import openai

        conn, where = self.connection.name, self.endpoint
        prefix = f"Node '{self.node}' (connection '{conn}', endpoint {where})"
        secrets = [*self.connection.secrets.values(), *_url_password(self.base_url)]
        detail = _scrub(_server_message(exc), secrets)
        if isinstance(exc, openai.AuthenticationError):
            text = (f"{prefix}: the endpoint rejected the connection's credentials (401 Unauthorized). Check the "
                    f"api_key with `flowline connection show --name {conn}` and set it again.")
        elif isinstance(exc, openai.NotFoundError):
            text = (f"{prefix}: model '{model}' was not found (404). Check the node's deployment_name/model "
                    f"against the models the endpoint serves. {detail}")
        elif isinstance(exc, openai.BadRequestError) and "context" in detail.lower() and "length" in detail.lower():
            text = (f"{prefix}: the prompt is too long for model '{model}' (context length exceeded). Shorten the "
                    f"prompt or lower max_tokens. {detail}")
        elif isinstance(exc, openai.APITimeoutError):
            attempts = int(os.environ.get("FLOWLINE_LLM_MAX_RETRIES", "3")) + 1
            text = (f"{prefix}: no answer within {os.environ.get('FLOWLINE_LLM_TIMEOUT', '120')} s, "
                    f"{attempts} attempt{'s' if attempts > 1 else ''} (timeout; FLOWLINE_LLM_TIMEOUT and "
                    "FLOWLINE_LLM_MAX_RETRIES set the time and the attempts).")
        elif isinstance(exc, openai.APIConnectionError):
            text = f"{prefix}: {_connection_failure(where, _scrub(str(exc.__cause__ or exc), secrets))}"
        elif isinstance(exc, openai.RateLimitError):
            text = f"{prefix}: rate limited (429) after all retries. {detail}"
        elif isinstance(exc, openai.APIStatusError):
            text = f"{prefix}: the endpoint answered {exc.status_code}. {detail}"
        else:
            text = f"{prefix}: {detail}"
        return LLMError(text.strip())


def shown_url(url: str) -> str:
    """``url`` without the ``user:password@`` in its address (``http://admin:pw@host/v1`` is shown
    ``http://host/v1``); any other text as it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _url_password(url: str) -> list[str]:
    """The password written into ``url``, if any (what an error's own text must not show either)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password] if password and len(password) >= 4 else []


def _connection_failure(endpoint: str, cause: str) -> str:
    """Why ``endpoint`` refused the connection: the local model's own account when it is the local
    model and its server has stopped (how it ended, its log, how to restart it), else what failed."""
    from flowline.home import flowline_home
    from flowline.local_llm.state import stopped_message

    stopped = stopped_message(endpoint, flowline_home())
    if stopped is not None:
        return stopped
    return (f"cannot connect to {endpoint} ({cause}). Check that the server at that address is running and "
            "reachable from this machine, and that the connection's address is right.")


def _server_message(exc: Exception) -> str:
    """The server's own error text (from ``{"error": {"message": ...}}`` or ``{"message": ...}``)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", "") or exc)


def _template_line(template: str, fragment: str) -> int:
    """The 1-based line of the template holding ``fragment`` (or its first literal word), else 1."""
    for probe in (fragment.strip(), fragment.strip().split(" ")[0] if fragment.strip() else ""):
        if probe and probe in template:
            return template.count("\n", 0, template.index(probe)) + 1
    return 1


def _usage(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    return {"prompt": prompt, "completion": completion, "total": int(getattr(usage, "total_tokens", 0)
                                                                     or prompt + completion)}
