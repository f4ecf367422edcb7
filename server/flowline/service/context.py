"""Where a cursor is in flow.dag.yaml: the keys above it and the token being typed.

Read from the lines themselves (indentation and ``key:`` / ``- `` markers), not from the parse
tree, so it works on half-typed YAML that does not parse yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"^(\s*)(-\s+)?([^\s:#'\"][^:#]*?|'[^']*'|\"[^\"]*\")\s*:(\s|$)")
_ITEM = re.compile(r"^(\s*)-(\s|$)")


@dataclass(frozen=True)
class Cursor:
    """The cursor's surroundings.

    ``path`` holds the keys of the enclosing mappings from the top, ``-`` standing for a list item
    (``("nodes", "-", "inputs")`` inside a node's inputs). ``key`` is the key of the current line
    when the cursor is in its value; ``prefix`` is the word typed so far.
    """

    path: tuple[str, ...]
    key: str | None
    in_value: bool
    prefix: str
    line: int
    column: int


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _parents(lines: list[str], line: int, limit: int, sibling_items: int | None = None) -> list[str]:
    """Keys (and ``-`` for list items) that enclose ``line``, whose content starts at column ``limit``.

    Lines indented at ``limit`` or more are siblings or deeper and are skipped; ``sibling_items`` is
    the indent of list items that are siblings of the one holding the cursor.
    """
    path: list[str] = []
    for number in range(line - 1, -1, -1):
        text = lines[number]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        current = _indent(text)
        if current >= limit:
            continue
        if _ITEM.match(text):
            if current == sibling_items:
                continue
            # The item holding the cursor; its parent key may sit at the dash's own indent.
            path.insert(0, "-")
            limit, sibling_items = current + 1, current
            continue
        match = _KEY.match(text)
        if match is not None:
            path.insert(0, match.group(3).strip("'\""))
            limit, sibling_items = current, None
            if current == 0:
                break
    return path


def cursor_at(text: str, line: int, column: int) -> Cursor:
    """Describe the position ``line``/``column`` (0-based, code points) of a flow text."""
    lines = text.split("\n")
    if line >= len(lines):
        return Cursor((), None, False, "", line, column)
    current = lines[line]
    before = current[:column]
    prefix_match = re.search(r"[\w.\-${\[\]']*$", before)
    prefix = prefix_match.group(0) if prefix_match else ""
    key_match = _KEY.match(current)
    in_value = key_match is not None and column >= key_match.end(0) - len(key_match.group(4))
    key = key_match.group(3).strip("'\"") if key_match is not None and in_value else None
    indent = _indent(current)
    if _ITEM.match(current):
        path = _parents(lines, line, indent + 1, indent) + ["-"]
    elif not current.strip():
        path = _parents(lines, line, column)
    else:
        path = _parents(lines, line, indent)
    return Cursor(tuple(path), key, in_value, prefix, line, column)
