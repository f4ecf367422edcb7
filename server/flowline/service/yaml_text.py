"""How values are written into YAML text, and how that text is laid out: scalars that read back as
the same value (under YAML 1.2, which Flowline reads, and 1.1, which PyYAML reads), flow (inline)
collections, block entries and sequence items at a given indentation, and the line end and
indentation steps a file already uses, so that new lines look like their neighbours."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from flowline.flow.parse import YMap, YNode, YScalar, YSeq

# A plain scalar starts with a letter, `_` or `$` (never an indicator or a digit, so it is never
# read as a number) and holds no `: `, ` #` or quote at its start. Inside a flow collection `[]{},`
# end a plain scalar, so they are left out there.
_BLOCK_PLAIN = re.compile(r"[A-Za-z_$][\w${}.\[\]'\- /]*")
_FLOW_PLAIN = re.compile(r"[A-Za-z_$][\w$.'\- /]*")
_KEYWORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off"})  # YAML 1.1 reads the last four too
_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    # YAML readers reject C0/C1 controls, surrogates and U+FFFE/U+FFFF, and treat U+2028/U+2029 as
    # line breaks: each is written as an escape so the text stays printable and reads back the same.
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0x2028, 0x2029, 0xFEFF,
                                                                                     0xFFFE, 0xFFFF):
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return char


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # `1e+16` is a float in YAML 1.2 but a string in 1.1; `1.0e+16` is a float in both.
    return text.replace("e", ".0e") if "e" in text and "." not in text else text


def scalar(value: Any, flow: bool = False) -> str:
    """``value`` (``None``, a bool, number or string) as a YAML scalar that reads back the same:
    plain when that is safe (in a flow collection when ``flow``), else double-quoted with escapes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    text = str(value)
    plain = (_FLOW_PLAIN if flow else _BLOCK_PLAIN).fullmatch(text)
    if plain and text.lower() not in _KEYWORDS and not text.endswith(" "):
        return text
    return '"' + "".join(_escaped(c) for c in text) + '"'


def inline(value: Any, flow: bool = False) -> str:
    """``value`` written on one line: a scalar, or a flow mapping or sequence (JSON-like values)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(str(k), True)}: {inline(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline(v, True) for v in value) + "]"
    return scalar(value, flow)


def entry_value(value: Any, flow: bool) -> str:
    """The text after ``key: `` for ``value``; nothing for ``None`` (a key with no value yet)."""
    return "" if value is None else inline(value, flow)


@dataclass(frozen=True)
class Layout:
    """How a YAML text is laid out: its lines (split at ``\\n``, so a CRLF line keeps its ``\\r``), its
    line end, the columns from a key to the keys of its block mapping (``unit``) and to the dashes of
    its block sequence (``seq_indent``, 0 for Prompt flow's ``nodes:\\n- name: ...``)."""

    lines: tuple[str, ...]
    eol: str
    unit: int
    seq_indent: int

    def is_flow(self, node: YMap | YSeq) -> bool:
        """True for a flow (``{...}``/``[...]``) collection; a block collection is never empty."""
        line = self.lines[node.span.start_line] if node.span.start_line < len(self.lines) else ""
        return not node.items or line[node.span.start_col:node.span.start_col + 1] in ("{", "[")

    def content_end(self, node: YNode) -> tuple[int, int]:
        """Where a node's own text ends: a block collection's span runs on over the comments and blank
        lines before the next key, which belong to nobody, so it ends with its last entry instead."""
        if isinstance(node, YMap) and not self.is_flow(node):
            key, value = node.items[-1]
            return max((key.span.end_line, key.span.end_col), self.content_end(value))
        if isinstance(node, YSeq) and not self.is_flow(node):
            return self.content_end(node.items[-1])
        return node.span.end_line, node.span.end_col

    def next_line(self, node: YNode) -> int:
        """The first line after a node's text (a block scalar's text ends with its line break)."""
        line, col = self.content_end(node)
        return line if col == 0 and line > node.span.start_line else line + 1

    def line_start(self, line: int) -> tuple[int, int]:
        """The start of ``line``, or the end of the text for the line after a last line without end."""
        if line < len(self.lines):
            return line, 0
        return len(self.lines) - 1, len(self.lines[-1])

    def line_end(self, line: int) -> int:
        """The column where ``line``'s text ends (before a ``\\r``)."""
        text = self.lines[line]
        return len(text) - 1 if text.endswith("\r") else len(text)

    def block_lines(self, value: Any, key_col: int) -> list[str] | None:
        """A non-empty mapping (or list of mappings) under a key at ``key_col``, as block lines;
        ``None`` for what is written inline."""
        if isinstance(value, dict) and value:
            return [line for k, v in value.items() for line in self.entry_lines(str(k), v, key_col + self.unit)]
        if isinstance(value, list) and value and all(isinstance(i, dict) and i for i in value):
            return [line for item in value for line in self.item_lines(item, key_col + self.seq_indent, 2)]
        return None

    def entry_lines(self, key: str, value: Any, indent: int) -> list[str]:
        """The lines of ``key: value`` in a block mapping whose keys are at column ``indent``."""
        head = f"{' ' * indent}{scalar(key)}:"
        nested = self.block_lines(value, indent)
        return [head, *nested] if nested is not None else [f"{head} {entry_value(value, False)}"]

    def item_lines(self, item: dict[str, Any], dash: int, offset: int) -> list[str]:
        """The lines of a mapping as a block sequence item: ``-`` at column ``dash``, its keys
        ``offset`` columns further right."""
        lines = [line for k, v in item.items() for line in self.entry_lines(str(k), v, dash + offset)]
        lines[0] = f"{' ' * dash}-{' ' * (offset - 1)}{lines[0][dash + offset:]}"
        return lines


def _steps(root: YNode | None, lines: tuple[str, ...]) -> tuple[int | None, int | None]:
    unit: int | None = None
    seq_indent: int | None = None
    pending = [root] if root is not None else []
    while pending and (unit is None or seq_indent is None):
        node = pending.pop(0)
        if isinstance(node, YSeq):
            pending.extend(node.items)
        if not isinstance(node, YMap):
            continue
        for key, value in node.items:
            on_own_lines = value.span.start_line > key.span.end_line
            if unit is None and isinstance(value, YMap) and on_own_lines and value.items \
                    and value.items[0][0].span.start_col > key.span.start_col:
                unit = value.items[0][0].span.start_col - key.span.start_col
            if seq_indent is None and isinstance(value, YSeq) and on_own_lines and value.items \
                    and lines[value.span.start_line][value.span.start_col:].startswith("-"):
                seq_indent = max(value.span.start_col - key.span.start_col, 0)
            pending.append(value)
    return unit, seq_indent


def layout(text: str, root: YNode | None) -> Layout:
    """The layout of a parsed text (``root`` is its tree): CRLF when its first line ends so,
    indentation steps as its first nested block mapping and sequence use (2 and 0 otherwise)."""
    lines = tuple(text.split("\n"))
    eol = "\r\n" if lines[0].endswith("\r") and len(lines) > 1 else "\n"
    unit, seq_indent = _steps(root, lines)
    return Layout(lines, eol, unit or 2, seq_indent if seq_indent is not None else 0)


def is_null(node: YNode | None) -> bool:
    """True for a scalar that reads as null (``key:`` with nothing after it, ``~`` or ``null``)."""
    return isinstance(node, YScalar) and node.value is None and not node.quoted
