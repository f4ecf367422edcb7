"""YAML text → a tree of mappings, sequences and scalars that keeps every element's source span.

Built from PyYAML's event stream (the C parser when present) rather than ``yaml.load``, so that
a syntax error leaves the tree parsed so far — open containers are closed where the error
stands — plus one problem at the error's position. Parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from flowline.flow.problems import Problem, error, sentence
from flowline.flow.spans import Span

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()

# Plain scalars are typed by YAML 1.2's core schema, as Prompt flow's loader reads them:
# `on`, `yes`, `no` stay strings, `010` is the integer 10 and `1_000` is a string.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def _core_schema(text: str) -> Any:
    """The value of a plain scalar under YAML 1.2's core schema."""
    if text and text[0] not in _MAYBE_TYPED:
        return text  # most keys and values: cannot be a number, bool or null
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


class YScalar(NamedTuple):
    """A scalar with its Python value (as YAML 1.2 reads it) and its raw text (a tuple, for speed)."""

    value: Any
    raw: str
    span: Span
    quoted: bool = False


class YSeq(NamedTuple):
    """A sequence of nodes (a named tuple, like ``YScalar``: cheap to create and to move)."""

    items: tuple[YNode, ...]
    span: Span


class YMap(NamedTuple):
    """A mapping; ``items`` keep source order and duplicates (the last one wins in ``get``)."""

    items: tuple[tuple[YScalar, YNode], ...]
    span: Span

    def get(self, key: str) -> YNode | None:
        """The value under ``key``, or ``None``."""
        for k, v in reversed(self.items):
            if k.value == key:
                return v
        return None

    def key(self, key: str) -> YScalar | None:
        """The key scalar named ``key``, or ``None``."""
        for k, _ in reversed(self.items):
            if k.value == key:
                return k
        return None


YNode = YScalar | YSeq | YMap


@dataclass(frozen=True)
class Document:
    """The result of parsing: the root node (``None`` for an empty document) and syntax problems."""

    root: YNode | None
    problems: tuple[Problem, ...]
    text: str
    plain: bool = False
    """True when the text is one document of block style without anchors, aliases or tags: then a
    node block's meaning does not depend on the rest of the text (see ``flow/reparse.py``)."""


def block_end_line(node: YNode) -> int:
    """The line after a block's last content (a block mapping's span ends where the next key starts)."""
    end = node.span.end_line
    return end if node.span.end_col == 0 else end + 1


def to_python(node: YNode | None) -> Any:
    """The plain Python value of a node (what ``yaml.safe_load`` would give)."""
    if node is None:
        return None
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_python(i) for i in node.items]
    return {_hashable(k.value): to_python(v) for k, v in node.items}


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _span(start: Any, end: Any) -> Span:
    return Span(start.line, start.column, end.line, end.column)


@dataclass
class _Open:
    """A container being built: a mapping collects alternating keys and values."""

    is_map: bool
    start: Any
    anchor: str | None
    children: list[YNode] = field(default_factory=list)

    def close(self, end: Any) -> YNode:
        span = _span(self.start, end)
        if not self.is_map:
            return YSeq(tuple(self.children), span)
        pairs = []
        for i in range(0, len(self.children) - 1, 2):
            key = self.children[i]
            if not isinstance(key, YScalar):
                key = YScalar(str(to_python(key)), "", key.span)
            pairs.append((key, self.children[i + 1]))
        if len(self.children) % 2:
            # A key whose value never came (syntax error mid-mapping): keep it with a null value.
            key = self.children[-1]
            if isinstance(key, YScalar):
                pairs.append((key, YScalar(None, "", Span.point(key.span.end_line, key.span.end_col))))
        return YMap(tuple(pairs), span)


def _scalar(event: Any) -> YScalar:
    span = _span(event.start_mark, event.end_mark)
    quoted = event.style in ("'", '"')
    tag = event.tag
    if tag is None or tag == "!":
        value = _core_schema(event.value) if event.implicit[0] and not event.style else event.value
        return YScalar(value, event.value, span, quoted)
    try:
        value = _constructor.construct_object(yaml.ScalarNode(tag, event.value, style=event.style))
    except yaml.YAMLError:
        value = event.value
    return YScalar(value, event.value, span, quoted)


def parse(text: str) -> Document:
    """Parse YAML text into a span-carrying tree; syntax errors become problems, never exceptions."""
    stack: list[_Open] = []
    anchors: dict[str, YNode] = {}
    root: YNode | None = None
    problems: list[Problem] = []
    last_mark: Any = None
    plain = True

    def attach(node: YNode, anchor: str | None) -> None:
        nonlocal root
        if anchor:
            anchors[anchor] = node
        if stack:
            stack[-1].children.append(node)
        elif root is None:
            root = node

    try:
        for event in yaml.parse(text, Loader=_Loader):
            last_mark = event.end_mark
            if isinstance(event, yaml.ScalarEvent):
                plain = plain and event.anchor is None and (event.tag is None or event.tag == "!")
                attach(_scalar(event), event.anchor)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                plain = plain and event.anchor is None and not event.flow_style and event.implicit
                stack.append(_Open(isinstance(event, yaml.MappingStartEvent), event.start_mark, event.anchor))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                opened = stack.pop()
                attach(opened.close(event.end_mark), opened.anchor)
            elif isinstance(event, yaml.AliasEvent):
                plain = False
                target = anchors.get(event.anchor or "")
                if target is None:
                    problems.append(error(_span(event.start_mark, event.end_mark), "yaml-syntax",
                                          f"Unknown YAML alias '*{event.anchor}'."))
                    target = YScalar(None, "", _span(event.start_mark, event.end_mark))
                attach(target, None)
            elif isinstance(event, yaml.DocumentStartEvent):
                plain = plain and not event.explicit and not event.tags and event.version is None
            elif isinstance(event, yaml.DocumentEndEvent) and root is not None:
                break  # only the first document of a stream is a flow
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark or last_mark
        line, col = (mark.line, mark.column) if mark is not None else (0, 0)
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            context = exc.context.strip()
            if exc.context_mark is not None and exc.context_mark is not mark:
                context += f" (started at {exc.context_mark.line + 1}:{exc.context_mark.column + 1})"
            message = f"{context}: {message}"
        problems.append(error(Span(line, col, line, col + 1), "yaml-syntax",
                              sentence(f"YAML syntax error: {message}")))
        end = mark if mark is not None else None
        while stack:
            opened = stack.pop()
            node = opened.close(end or opened.start)
            attach(node, opened.anchor)
    except yaml.YAMLError as exc:
        problems.append(error(Span(0, 0, 0, 1), "yaml-syntax", sentence(f"YAML error: {exc}")))
    return Document(root, tuple(problems), text, plain and not problems)
