"""Jinja2 prompt templates, rendered in a sandbox with Prompt flow's settings.

``trim_blocks`` and ``keep_trailing_newline`` are on, as Prompt flow renders prompt and llm nodes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flowline.flow.problems import sentence
from flowline.flow.spans import Span


class TemplateError(Exception):
    """A template that cannot be parsed or rendered."""


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(trim_blocks=True, keep_trailing_newline=True)


@lru_cache(maxsize=512)
def template_variables(text: str) -> frozenset[str]:
    """The undeclared variables a template reads (cached by text)."""
    import jinja2
    from jinja2 import meta

    try:
        return frozenset(meta.find_undeclared_variables(_environment().parse(text)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError("has a syntax error at line " + sentence(f"{exc.lineno}: {exc.message}")) from exc


def template_position(text: str, name: str) -> Span:
    """Where a template first reads variable ``name`` (the name inside its first ``{{ }}`` or ``{% %}``
    that uses it); the start of the template when the lexer finds none."""
    import re

    pattern = re.compile(r"(?<![\w.])" + re.escape(name) + r"(?!\w)")
    for lineno, kind, value in _environment().lex(text):
        if kind == "name" and value == name:
            line = text.split("\n")[lineno - 1]
            match = pattern.search(line, line.find("{") + 1 if "{" in line else 0)
            column = match.start() if match else 0
            return Span(lineno - 1, column, lineno - 1, column + len(name))
    return Span(0, 0, 0, 0)


@lru_cache(maxsize=256)
def _compiled(text: str) -> Any:
    return _environment().from_string(text)


def render(text: str, variables: dict[str, Any]) -> str:
    """Render a template with the given variables (each template text is compiled once)."""
    import jinja2

    try:
        return str(_compiled(text).render(**variables))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"Template syntax error at line {exc.lineno}: {exc.message}") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"Template tried an unsafe operation: {exc}") from exc
