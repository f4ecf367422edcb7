"""The promptflow-tools built-ins, run natively: embedding, the two vision chats, and SerpApi search.

promptflow 1.18.5 runs them from promptflow-tools 1.6.1; Flowline reproduces what they send and return
(observed against a local server): ``embedding`` gives the ``data[0].embedding`` list of floats of an
Embeddings request (``model`` for OpenAI connections, ``deployment_name`` for Azure OpenAI ones); the
vision chats are LLM nodes whose template's ``![image](...)`` lines become image parts, with the node's
``detail`` on each part; ``SerpAPI.search`` answers SerpApi's JSON object. Calls go through the
``openai`` client exactly as LLM nodes' calls do (same retries, timeouts and error messages).
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, fields
from typing import Any

from flowline.connections.model import Connection
from flowline.engine.llm import LLMRunner
from flowline.engine.nodes import NodeContext
from flowline.flow.builtin_tools import OPENAI_VISION
from flowline.flow.package_tools import PackageTool
from flowline.flow.types import convert_node_input

SERPAPI_URL = "https://serpapi.com/search"
_FLOW_TYPES = ("string", "int", "double", "bool", "list", "object")


class BuiltinToolError(Exception):
    """A built-in tool's call failed; the message says why (never with a secret)."""


@dataclass(frozen=True)
class ToolInputs:
    """Defaults and literal conversion from a tool's metadata, shared by the runners below."""

    tool: PackageTool

    def has_default(self, name: str) -> bool:
        found = self.tool.input(name)
        return found is not None and found.has_default

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        found = self.tool.input(name)
        wanted = next((t for t in found.types if t in _FLOW_TYPES), None) if found is not None else None
        return convert_node_input(node, name, value, wanted)

    def values(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The call's inputs over the metadata's defaults (blank defaults left out)."""
        merged = {i.name: i.default for i in self.tool.inputs if i.has_default and i.default not in ("", None)}
        merged.update({k: v for k, v in inputs.items() if v is not None})
        merged.pop("connection", None)
        return merged


@dataclass(frozen=True)
class EmbeddingRunner:
    """``promptflow.tools.embedding.embedding``: the input text's embedding vector."""

    inputs: ToolInputs
    llm: LLMRunner
    """An LLM runner of the node's connection: its openai client and error wording are reused."""

    def has_default(self, name: str) -> bool:
        return self.inputs.has_default(name)

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        return self.inputs.convert_literal(node, name, value)

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        import openai

        values = self.inputs.values(inputs)
        azure = self.llm.connection.TYPE == "azure_open_ai"
        model = str(values.get("deployment_name") if azure else values.get("model") or "")
        if not model:
            raise BuiltinToolError(f"Node '{self.llm.node}': the embedding tool needs 'deployment_name' with an "
                                   "Azure OpenAI connection.")
        try:
            result = await self.llm.client().embeddings.create(input=str(values.get("input", "")), model=model)
        except openai.APIError as exc:
            raise self.llm._describe(exc, model) from None
        tokens = getattr(result, "usage", None)
        if tokens is not None and getattr(tokens, "prompt_tokens", None):
            ctx.add_usage({"prompt": int(tokens.prompt_tokens), "completion": 0,
                           "total": int(tokens.total_tokens or tokens.prompt_tokens)})
        return list(result.data[0].embedding)


@dataclass
class VisionRunner(LLMRunner):
    """``OpenAI.chat`` / ``AzureOpenAI.chat`` of the gpt4v tools: a chat LLM node whose image parts carry
    the node's ``detail`` (default ``auto``), and whose OpenAI model defaults as the tool's does."""

    default_model: str | None = None

    @classmethod
    def of(cls, runner: LLMRunner, tool: PackageTool) -> VisionRunner:
        """The vision runner of an LLM runner built for the node."""
        model = tool.input("model")
        default = str(model.default) if tool.id == OPENAI_VISION and model is not None else None
        values = {f.name: getattr(runner, f.name) for f in fields(runner) if f.init}
        return cls(**values, default_model=default)

    def request(self, inputs: dict[str, Any], untrusted: frozenset[str]) -> dict[str, Any]:
        if self.default_model and not inputs.get("model") and not inputs.get("deployment_name"):
            inputs = {**inputs, "model": self.default_model}
        request = super().request(inputs, untrusted)
        detail = str(inputs.get("detail") or "auto")
        for message in request.get("messages", ()):
            content = message.get("content")
            for part in content if isinstance(content, list) else ():
                if isinstance(part, dict) and isinstance(part.get("image_url"), dict):
                    part["image_url"]["detail"] = detail
        return request


def serpapi_url(connection: Connection) -> str:
    """Where searches go: the connection's ``api_base`` config, else ``FLOWLINE_SERPAPI_URL``, else
    SerpApi's own endpoint (the first two point tests, or a proxy, elsewhere)."""
    return str(connection.configs.get("api_base") or os.environ.get("FLOWLINE_SERPAPI_URL") or SERPAPI_URL)


@dataclass(frozen=True)
class SerpAPIRunner:
    """``promptflow.tools.serpapi.SerpAPI.search``: one GET to SerpApi with the connection's ``api_key``;
    the answer's JSON object is the output. ``FLOWLINE_LLM_TIMEOUT`` (default 120 s) bounds the call."""

    inputs: ToolInputs
    node: str
    connection: Connection

    def has_default(self, name: str) -> bool:
        return self.inputs.has_default(name)

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        return self.inputs.convert_literal(node, name, value)

    def query(self, inputs: dict[str, Any]) -> dict[str, str]:
        """The query parameters SerpApi receives (as promptflow-tools sends them)."""
        values = self.inputs.values(inputs)
        api_key = self.connection.secrets.get("api_key") or self.connection.configs.get("api_key")
        if not api_key:
            raise BuiltinToolError(f"Node '{self.node}': connection '{self.connection.name}' has no 'api_key'; "
                                   "SerpApi needs one (a serp or custom connection with the secret api_key).")
        engine = str(values.get("engine") or "google").lower()
        params = {"q": str(values.get("query", "")), "engine": engine, "api_key": str(api_key), "output": "json"}
        if values.get("location"):
            params["location"] = str(values["location"])
        if str(values.get("safe", "off")).lower() == "active":
            params.update({"safe": "Active"} if engine == "google" else {"safeSearch": "Strict"})
        num = int(values.get("num") or 0)
        if num > 0:
            params["num" if engine == "google" else "count"] = str(num)
        return params

    async def call(self, inputs: dict[str, Any], ctx: NodeContext) -> Any:
        return await asyncio.to_thread(self._get, self.query(inputs))

    def _get(self, params: dict[str, str]) -> Any:
        url = serpapi_url(self.connection)
        secret = params["api_key"]
        timeout = float(os.environ.get("FLOWLINE_LLM_TIMEOUT", "120"))
        try:
            with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(params)}", timeout=timeout) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            try:
                detail = str(json.loads(body).get("error") or body)
            except (ValueError, AttributeError):
                detail = body
            raise BuiltinToolError(f"Node '{self.node}' (connection '{self.connection.name}', endpoint {url}): "
                                   f"SerpApi answered {exc.code}: {detail.replace(secret, '******')}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = str(getattr(exc, "reason", exc)).replace(secret, "******")
            raise BuiltinToolError(f"Node '{self.node}': cannot reach SerpApi at {url} ({reason}).") from None
        except ValueError as exc:
            raise BuiltinToolError(f"Node '{self.node}': SerpApi at {url} did not answer JSON ({exc}).") from None
