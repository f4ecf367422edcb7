"""Stand-in for ``promptflow.tools.common``: the helpers custom LLM tools import from promptflow-tools,
over Flowline's own template rendering and chat parsing.

Each mirrors what promptflow-tools 1.6.1 gives (observed by calling it): ``to_bool``,
``render_jinja_template``, ``parse_chat``, ``build_messages``, ``convert_to_chat_list``,
``normalize_connection_config``, ``process_function_call`` and ``handle_openai_error``. Rendering is
sandboxed, as every template Flowline renders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from flowline.compat.shim import missing_attribute
from flowline.connections.model import AzureOpenAIConnection, Connection, OpenAIConnection

F = TypeVar("F", bound=Callable[..., Any])


class ChatAPIInvalidFunctions(ValueError):
    """A ``function_call`` or ``functions`` value the chat API would refuse."""


class ChatInputList(list[Any]):
    """A chat history list (``convert_to_chat_list`` returns one for a list)."""


def to_bool(value: Any) -> bool:
    """True for ``True`` and any casing of the text ``"true"``; everything else (``"yes"``, ``1``) is False."""
    return str(value).lower() == "true"


def render_jinja_template(template_content: str, trim_blocks: bool = True, keep_trailing_newline: bool = True,
                          escape_dict: dict[str, str] | None = None, **kwargs: Any) -> str:
    """``template_content`` rendered with ``kwargs`` (blocks trimmed, the last newline kept).

    Raises ``flowline.flow.templates.TemplateError`` for a template that cannot be parsed or rendered."""
    from flowline.flow.templates import render

    return render(template_content, kwargs)


def parse_chat(chat_str: str, images: list[Any] | None = None, valid_roles: list[str] | None = None,
               image_detail: str = "auto") -> list[dict[str, Any]]:
    """A rendered chat prompt (``system:``/``user:``/... headers, ``#`` allowed before them) as messages.

    Raises ``ValueError`` when text comes before the first role header."""
    from flowline.engine.chat_prompt import parse_chat as parse

    return parse(chat_str, Path.cwd())


def build_messages(prompt: str, images: list[Any] | None = None, image_detail: str = "auto",
                   **kwargs: Any) -> list[dict[str, Any]]:
    """The template ``prompt`` rendered with ``kwargs`` and parsed into chat messages. As in
    promptflow-tools, the values are not escaped: a value holding ``user:`` starts a message."""
    from flowline.engine.chat_prompt import build_messages as build

    return build(prompt, kwargs, frozenset(), Path.cwd())


def convert_to_chat_list(obj: Any) -> Any:
    """``obj`` with every list in it (itself included) a :class:`ChatInputList`; other values as they are."""
    if isinstance(obj, list):
        return ChatInputList(convert_to_chat_list(item) for item in obj)
    if isinstance(obj, dict):
        return {key: convert_to_chat_list(value) for key, value in obj.items()}
    return obj


def normalize_connection_config(connection: Connection) -> dict[str, Any]:
    """The keyword arguments of the ``openai`` client for ``connection`` (no retries: callers retry).

    Raises ``TypeError`` for a connection that is neither OpenAI nor Azure OpenAI."""
    if isinstance(connection, AzureOpenAIConnection):
        return {"max_retries": 0, "api_key": connection.secrets.get("api_key"),
                "api_version": connection.configs.get("api_version"),
                "azure_endpoint": connection.configs.get("api_base")}
    if isinstance(connection, OpenAIConnection):
        return {"max_retries": 0, "api_key": connection.secrets.get("api_key"),
                "organization": connection.configs.get("organization"),
                "base_url": connection.configs.get("base_url")}
    raise TypeError(f"Connection '{connection.name}' is a {type(connection).__name__}; the openai client needs an "
                    "OpenAIConnection or an AzureOpenAIConnection.")


def process_function_call(function_call: Any) -> Any:
    """``function_call`` checked: ``"auto"``, ``"none"``, or a mapping with a ``name``.

    Raises :class:`ChatAPIInvalidFunctions` otherwise."""
    if function_call in ("auto", "none"):
        return function_call
    if isinstance(function_call, dict) and "name" in function_call:
        return function_call
    raise ChatAPIInvalidFunctions(f"function_call parameter {function_call!r} must be 'auto', 'none' or a mapping "
                                  "with a \"name\" field, such as {\"name\": \"function_name\"}.")


def handle_openai_error(tries: int = 100, unprocessable_entity_error_tries: int = 3) -> Callable[[F], F]:
    """Decorator factory kept for compatibility: the function is returned unchanged, since the ``openai``
    client Flowline builds retries on its own (exponential backoff, honouring ``Retry-After``)."""

    def keep(func: F) -> F:
        return func

    return keep


__all__ = ["ChatAPIInvalidFunctions", "ChatInputList", "build_messages", "convert_to_chat_list", "handle_openai_error",
           "normalize_connection_config", "parse_chat", "process_function_call", "render_jinja_template", "to_bool"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
