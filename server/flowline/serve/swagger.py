"""``GET /swagger.json``: an OpenAPI 3.1 description of the served flow, its inputs and outputs as JSON Schema
with their defaults as examples.

promptflow 1.18.5 answers OpenAPI 3.0.0 with ``info.x-flow-name``, ``x-flow-type`` (``chat``/``standard``)
and, for a chat flow, ``x-chat-input``, ``x-chat-history``, ``x-chat-output``; Flowline keeps those fields (tools
read them) and lists as required only the inputs without a default (promptflow lists every input).
"""

from __future__ import annotations

from typing import Any

from flowline import __version__
from flowline.engine.events import to_jsonable
from flowline.flow.model import FlowInput
from flowline.serve.served import ServedFlow

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"}, "int": {"type": "integer"}, "double": {"type": "number"},
    "bool": {"type": "boolean"}, "list": {"type": "array"}, "object": {"type": "object"},
    "image": {"description": "an image: a data URI, a URL, or {\"data:image/png;base64\": ...}",
              "type": ["string", "object"]},
}
_PLACEHOLDERS: dict[str, Any] = {"string": "", "int": 0, "double": 0.0, "bool": False, "list": [], "object": {}}
_ERROR = {"$ref": "#/components/schemas/Error"}


def _input_schema(item: FlowInput) -> dict[str, Any]:
    schema = dict(_TYPES.get(item.type or "", {}))
    if item.description:
        schema["description"] = item.description
    if item.enum:
        schema["enum"] = list(item.enum)
    if item.default is not None and item.default.value is not None:
        schema["default"] = to_jsonable(item.default.value)
    return schema


def example_inputs(served: ServedFlow) -> dict[str, Any]:
    """A request body that works: each input's default, else a value of its type."""
    example: dict[str, Any] = {}
    for item in served.flow.inputs:
        if item.default is not None and item.default.value is not None:
            example[item.name] = to_jsonable(item.default.value)
        elif item.is_chat_history:
            example[item.name] = []
        else:
            example[item.name] = _PLACEHOLDERS.get(item.type or "string", "")
    return example


def _errors(*statuses: str) -> dict[str, Any]:
    reasons = {"400": "invalid input: malformed JSON, a missing input, a value of the wrong type",
               "404": "not a chat flow", "413": "the body is larger than the server takes",
               "500": "a node failed", "504": "the flow ran past the request timeout"}
    return {s: {"description": reasons[s], "content": {"application/json": {"schema": _ERROR}}} for s in statuses}


def _chat_path() -> dict[str, Any]:
    message = {"type": "object", "required": ["role"],
               "properties": {"role": {"type": "string"}, "content": {"type": ["string", "array", "null"]}}}
    request = {"type": "object", "required": ["messages"],
               "properties": {"messages": {"type": "array", "items": message, "minItems": 1},
                              "model": {"type": "string"}, "stream": {"type": "boolean", "default": False}}}
    return {"post": {
        "summary": "chat with the flow in OpenAI's Chat Completions shape",
        "operationId": "chatCompletions",
        "requestBody": {"required": True, "content": {"application/json": {"schema": request, "example": {
            "messages": [{"role": "user", "content": "Hello"}]}}}},
        "responses": {"200": {"description": "a chat.completion object, or chat.completion.chunk events",
                              "content": {"application/json": {"schema": {"type": "object"}},
                                          "text/event-stream": {"schema": {"type": "string"}}}},
                      **_errors("400", "404", "413", "500", "504")}}}


def swagger(served: ServedFlow) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the served flow."""
    flow = served.flow
    inputs = {"type": "object", "properties": {i.name: _input_schema(i) for i in flow.inputs},
              "required": [i.name for i in flow.inputs
                           if not i.is_chat_history and (i.default is None or i.default.value is None)]}
    outputs = {"type": "object", "properties": {o.name: dict(_TYPES.get(o.type or "", {})) for o in flow.outputs}}
    info: dict[str, Any] = {"title": f"Flowline[{served.name}] API", "version": "1.0.0", "x-flow-name": served.name,
                            "x-flow-type": "chat" if flow.is_chat else "standard"}
    if flow.description:
        info["description"] = flow.description
    for key, part in (("x-chat-input", served.chat_input), ("x-chat-history", served.chat_history),
                      ("x-chat-output", served.chat_output)):
        if flow.is_chat and part is not None:
            info[key] = part.name
    status = {"type": "object", "properties": {"status": {"type": "string"}, "version": {"type": "string"}}}
    paths: dict[str, Any] = {
        "/score": {"post": {
            "summary": f"run the flow '{served.name}' on the given inputs",
            "operationId": "score",
            "parameters": [{"name": "x-request-id", "in": "header", "required": False, "schema": {"type": "string"},
                            "description": "echoed in the answer's x-request-id (made up when absent)"}],
            "requestBody": {"required": True, "description": "the flow's inputs",
                            "content": {"application/json": {"schema": inputs, "example": example_inputs(served)}}},
            "responses": {"200": {"description": "the flow's outputs (Server-Sent Events with "
                                                 "Accept: text/event-stream)",
                                  "content": {"application/json": {"schema": outputs},
                                              "text/event-stream": {"schema": {"type": "string"}}}},
                          **_errors("400", "413", "500", "504")}}},
        "/health": {"get": {"summary": "whether the server is up", "operationId": "health",
                            "responses": {"200": {"description": "healthy",
                                                  "content": {"application/json": {"schema": status}}}}}},
        "/version": {"get": {"summary": "the server's version", "operationId": "version",
                             "responses": {"200": {"description": "the version",
                                                   "content": {"application/json": {"schema": status}}}}}},
    }
    if flow.is_chat:
        paths["/v1/chat/completions"] = _chat_path()
    error = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    return {"openapi": "3.1.0", "info": info, "servers": [{"url": "/"}], "paths": paths,
            "components": {"schemas": {"Error": error}}, "x-flowline-version": __version__}
