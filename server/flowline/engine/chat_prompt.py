"""A rendered chat template → the ``messages`` of a Chat Completions request, as Prompt flow reads it.

A line holding only a role and a colon (``system:``, ``user:``, ``assistant:``, ``function:``,
``tool:``; any case; optionally ``#``-prefixed) starts a message. Under a role, ``name:`` /
``content:`` sub-headers give the message a name (required for ``function``), ``tool_call_id:`` /
``content:`` answer a tool call (required for ``tool``), and an assistant's ``tool_calls:`` holds a
Python-literal list. A content line ``![image](url)`` becomes an image part, as does an image the
variables hold (:mod:`flowline.engine.prompt_images`). Text before the first role header is an error.

Role-injection defence: role headers inside values that come from flow inputs are replaced by
unique placeholders before rendering and restored after parsing, so user text can never open a
new message.
"""

from __future__ import annotations

import ast
import base64
import mimetypes
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowline.engine.image_inputs import shown
from flowline.engine.prompt_images import as_lines, image_lines_template, image_url, referenced_images
from flowline.flow.templates import render
from flowline.images import Image, ImageLink

ROLES = ("system", "user", "assistant", "function", "tool")
_HEADER = re.compile(r"^\s*#?\s*(" + "|".join(ROLES) + r")\s*:\s*\n", re.IGNORECASE | re.MULTILINE)
_NAME_CONTENT = re.compile(r"\n*#{0,2}\s*name\s*:\s*\n+\s*(\S+)\s*\n*#{0,2}\s*content\s*:\s*\n?(.*)", re.DOTALL)
_TOOL_CONTENT = re.compile(r"\n*#{0,2}\s*tool_call_id\s*:\s*\n+\s*(\S+)\s*\n*#{0,2}\s*content\s*:\s*\n?(.*)",
                           re.DOTALL)
_TOOL_CALLS = re.compile(r"\n*#{0,2}\s*tool_calls\s*:\s*\n+\s*(\[.*?\])", re.DOTALL)
_IMAGE = re.compile(r"^!\[image\]\((.+)\)$")


class ChatPromptError(ValueError):
    """A rendered prompt that is not a valid chat; the message says what to write instead.

    ``fragment`` is the offending text, so callers can point at its line in the template file.
    """

    def __init__(self, message: str, fragment: str = "") -> None:
        super().__init__(message)
        self.fragment = fragment


def _image_url(target: str, base: Path) -> str:
    if re.match(r"^(https?:|data:)", target):
        return target
    path = Path(target[len("file://"):] if target.startswith("file://") else target)
    path = path if path.is_absolute() else base / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChatPromptError(f"Image '{shown(target)}' cannot be read: {exc.strerror}.") from exc
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _content(text: str, base: Path, images: Mapping[str, Image | ImageLink]) -> Any:
    """The content of a message: a string, or a list of parts when it holds images (``![image](url)``
    lines, and lines that are the text of an image the variables hold)."""
    text = text.strip()
    lines = [line for line in text.split("\n") if line.strip()]
    if not any(_IMAGE.match(line.strip()) or line.strip() in images for line in lines):
        return text
    parts: list[dict[str, Any]] = []
    for line in lines:
        image = _IMAGE.match(line.strip())
        held = images.get(line.strip())
        if held is not None:
            parts.append({"type": "image_url", "image_url": {"url": image_url(held), "detail": "auto"}})
        elif image:
            parts.append({"type": "image_url", "image_url": {"url": _image_url(image.group(1), base),
                                                             "detail": "auto"}})
        else:
            parts.append({"type": "text", "text": line})
    return parts


def parse_chat(rendered: str, base: Path = Path("."),
               images: Mapping[str, Image | ImageLink] | None = None) -> list[dict[str, Any]]:
    """Split a rendered chat prompt into messages; ``images`` are the images the variables held, by the
    text they rendered as (see :mod:`flowline.engine.prompt_images`)."""
    images = images or {}
    pieces = _HEADER.split(rendered)
    preamble = pieces[0]
    if preamble.strip():
        first = preamble.strip().splitlines()[0]
        raise ChatPromptError(
            f"'{first[:60]}' comes before any role header. A chat prompt is a series of messages, each starting "
            f"with a line such as 'system:' or 'user:' ({', '.join(r + ':' for r in ROLES)}). For a plain text "
            "prompt use 'api: completion'.", first)
    messages: list[dict[str, Any]] = []
    for role, body in zip(pieces[1::2], pieces[2::2], strict=True):
        message: dict[str, Any] = {"role": role.lower()}
        messages.append(message)
        if message["role"] == "tool":
            parsed = _TOOL_CONTENT.search(body)
            if parsed is None:
                raise ChatPromptError("A 'tool:' message needs 'tool_call_id:' (the id of the call it answers) "
                                      "followed by 'content:'.")
            message["tool_call_id"], message["content"] = parsed.group(1), _content(parsed.group(2), base, images)
            continue
        if message["role"] == "assistant":
            calls = _TOOL_CALLS.search(body)
            if calls is not None:
                try:
                    message["tool_calls"] = ast.literal_eval(calls.group(1))
                    continue
                except (ValueError, SyntaxError):
                    pass
        named = _NAME_CONTENT.search(body)
        if named is not None:
            message["name"], message["content"] = named.group(1), _content(named.group(2), base, images)
        elif message["role"] == "function":
            raise ChatPromptError("A 'function:' message needs 'name:' (the function's name) followed by "
                                  "'content:'.")
        else:
            message["content"] = _content(body, base, images)
    return messages


def _escape_map(value: Any, found: dict[str, str]) -> None:
    if isinstance(value, str):
        for match in _HEADER.finditer(value):
            role = match.group(1)
            if role not in found.values():
                found[uuid.uuid4().hex] = role
    elif isinstance(value, dict):
        for item in value.values():
            _escape_map(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _escape_map(item, found)


def _replace(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _replace(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return type(value)(_replace(v, pairs) for v in value)  # a list of lines stays one
    return value


def build_messages(template: str, variables: dict[str, Any], untrusted: frozenset[str],
                   base: Path = Path(".")) -> list[dict[str, Any]]:
    """Render a chat template and parse it into messages; ``untrusted`` variables cannot add roles.
    Images the variables hold become image parts (:mod:`flowline.engine.prompt_images`)."""
    images = referenced_images(variables)
    if images:
        template = image_lines_template(template)
        variables = {k: as_lines(v, images) for k, v in variables.items()}
    escapes: dict[str, str] = {}
    for name in untrusted:
        _escape_map(variables.get(name), escapes)
    to_placeholder = [(role, token) for token, role in escapes.items()]
    values = {k: _replace(v, to_placeholder) if k in untrusted else v for k, v in variables.items()}
    messages = parse_chat(render(template, values), base, images)
    if escapes:
        back = list(escapes.items())
        messages = [_replace(message, back) for message in messages]
    return messages
