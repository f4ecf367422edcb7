"""Text edits of YAML computed from its parsed tree (``flow/parse.py``): set, insert or remove a
mapping entry, append or remove a sequence item.

Every position comes from the tree, never from guessing at a key's column: a new entry goes after
the mapping's last entry at the column of its keys, whatever the key order; an empty flow
collection (``inputs: {}``) or a key with no value becomes a block; a non-empty flow collection is
extended in place. Only the lines that must change are touched, so comments and blank lines stay,
and new lines use the file's line end and indentation steps (spaces, never tabs).
"""

from __future__ import annotations

import re
from typing import Any

from flowline.flow.parse import YMap, YNode, YScalar, YSeq
from flowline.flow.spans import Span
from flowline.service.yaml_text import Layout, entry_value, inline, is_null, scalar

TextEdits = list[tuple[Span, str]]
_COMMENT = re.compile(r"(?:^|\s)(#.*)$")


class EditError(ValueError):
    """An edit that does not apply to the text as it is; the message says what, where, and how to fix it."""


def insert_lines(doc: Layout, line: int, lines: list[str]) -> tuple[Span, str]:
    """Insert whole lines before ``line`` (after the last line when ``line`` is past it)."""
    if line < len(doc.lines):
        return Span.point(line, 0), doc.eol.join(lines) + doc.eol
    last = len(doc.lines) - 1  # after a last line that has no line end
    return Span.point(last, len(doc.lines[last])), doc.eol + doc.eol.join(lines)


def _opens_block(doc: Layout, key: YScalar, value: YNode) -> bool:
    """True when ``key``'s value is a null or an empty ``{}``/``[]`` on the key's own line, so that
    block lines can replace it."""
    span = value.span
    if span.start_line != key.span.end_line or span.end_line != span.start_line:
        return False
    if isinstance(value, YScalar):
        return is_null(value)
    inner = doc.lines[span.start_line][span.start_col + 1:span.end_col - 1]
    return not value.items and not inner.strip()


def _open_block(doc: Layout, value: YNode, lines: list[str]) -> TextEdits:
    """Replace a null or empty flow collection (see ``_opens_block``) by block lines under its key;
    a comment after it stays on the key's line."""
    row = doc.lines[value.span.start_line]
    start = value.span.start_col
    while start > 0 and row[start - 1] in " \t":
        start -= 1
    end = doc.line_end(value.span.start_line)
    rest = row[value.span.end_col:end]
    return [(Span(value.span.start_line, start, value.span.start_line, end),
             rest + doc.eol + doc.eol.join(lines))]


def _fill(doc: Layout, parent: YMap, key: YScalar, value: YNode, new: Any) -> TextEdits:
    """Write ``new`` (a non-empty mapping or list of mappings) where ``key`` has a null or an empty
    collection: as a block when the parent is a block, else inline."""
    lines = doc.block_lines(new, key.span.start_col)
    if lines is not None and not doc.is_flow(parent) and _opens_block(doc, key, value):
        return _open_block(doc, value, lines)
    text = inline(new, doc.is_flow(parent))
    return [(value.span, " " + text if value.span.start_col == value.span.end_col else text)]


def _replacing(doc: Layout, start: tuple[int, int], end: tuple[int, int], text: str) -> tuple[Span, str]:
    """Replace the text from ``start`` to ``end`` with ``text``; when it ends with a block scalar's
    line break, the replacement gives the line break back."""
    return Span(*start, *end), (text + doc.eol if end[1] == 0 and end[0] > start[0] else text)


def _colon_after(doc: Layout, key: YScalar) -> int:
    """The column just after the ``:`` that ends ``key``."""
    row = doc.lines[key.span.end_line]
    colon = row.find(":", key.span.end_col)
    if colon < 0:
        raise EditError(f"Line {key.span.end_line + 1}: '{key.value}' has no ':' after it; fix the YAML first.")
    return colon + 1


def _is_block(doc: Layout, node: YNode) -> bool:
    """True for a block collection or a block scalar (``|``/``>``): values written on the lines below."""
    if isinstance(node, (YMap, YSeq)):
        return not doc.is_flow(node)
    return doc.lines[node.span.start_line][node.span.start_col:node.span.start_col + 1] in ("|", ">")


def _replace(doc: Layout, parent: YMap, key: YScalar, current: YNode, value: Any) -> TextEdits:
    """Replace the value ``current`` of ``key`` in ``parent`` with ``value``, written inline."""
    text = entry_value(value, doc.is_flow(parent))
    end = doc.content_end(current)
    if _is_block(doc, current):
        # The new value goes right after the colon; a comment on that line (after a block scalar's
        # `|` too) stays there.
        colon = _colon_after(doc, key)
        comment = _COMMENT.search(doc.lines[key.span.end_line][colon:doc.line_end(key.span.end_line)])
        new = f" {text}{'  ' + comment[1] if comment else ''}".rstrip()
        return [_replacing(doc, (key.span.end_line, colon), end, new)]
    start = (current.span.start_line, current.span.start_col)
    if start == end:  # `key:` with nothing after it yet
        return [(Span.point(*end), " " + text)] if text else []
    return [_replacing(doc, start, end, text)]


def insert_entry(doc: Layout, mapping: YMap, key: str, value: Any, owner: YScalar | None = None) -> TextEdits:
    """Add ``key: value`` to a mapping that lacks ``key``: after its last entry, at the column of its
    keys (a block), or before its closing brace (a flow mapping). ``owner`` is the key holding the
    mapping in a block mapping, so that an empty ``{}`` there becomes a block."""
    if not doc.is_flow(mapping):
        lines = doc.entry_lines(key, value, mapping.items[0][0].span.start_col)
        return [insert_lines(doc, doc.next_line(mapping), lines)]
    entry = f"{scalar(key, True)}: {entry_value(value, True)}"
    if mapping.items:
        return [(Span.point(*doc.content_end(mapping.items[-1][1])), ", " + entry)]
    if owner is not None and _opens_block(doc, owner, mapping):
        return _open_block(doc, mapping, doc.entry_lines(key, value, owner.span.start_col + doc.unit))
    return [(mapping.span, "{" + entry + "}")]


def set_entry(doc: Layout, mapping: YMap, key: str, value: Any, owner: YScalar | None = None) -> TextEdits:
    """Set ``key`` of a mapping to ``value``: replace its value when the key is there, else insert it."""
    for item_key, current in reversed(mapping.items):  # the last of duplicate keys is the one that counts
        if item_key.value == key:
            return _replace(doc, mapping, item_key, current, value)
    return insert_entry(doc, mapping, key, value, owner)


def set_in(doc: Layout, mapping: YMap, path: tuple[str, ...], value: Any, owner: YScalar | None = None) -> TextEdits:
    """Set the entry at ``path`` (keys from ``mapping`` down) to ``value``, creating the mappings on the
    way that are missing or null. Raises ``EditError`` when one on the way is something else."""
    key, rest = path[0], path[1:]
    if not rest:
        return set_entry(doc, mapping, key, value, owner)
    nested: Any = value
    for name in reversed(rest):
        nested = {name: nested}
    child, child_key = mapping.get(key), mapping.key(key)
    if child is None or child_key is None:
        return insert_entry(doc, mapping, key, nested, owner)
    if isinstance(child, YMap):
        return set_in(doc, child, rest, value, None if doc.is_flow(mapping) else child_key)
    if is_null(child):
        return _fill(doc, mapping, child_key, child, nested)
    held = inline(child.value) if isinstance(child, YScalar) else "a list"
    raise EditError(f"Line {child.span.start_line + 1}: '{key}' holds {held}, not a mapping; write it as "
                    f"'{key}:' with one 'name: value' line per entry first.")


def _emptied(doc: Layout, container: YMap | YSeq, owner: YScalar | None, empty: str) -> TextEdits:
    """Remove the last entry or item of a block collection, leaving ``{}`` or ``[]`` (not a null)."""
    if owner is None or owner.span.end_line >= container.span.start_line:
        start = (container.span.start_line, container.span.start_col)
        return [_replacing(doc, start, doc.content_end(container), empty)]
    colon = _colon_after(doc, owner)
    return [(Span.point(owner.span.end_line, colon), " " + empty),
            (Span(container.span.start_line, 0, *doc.line_start(doc.next_line(container))), "")]


def _remove_flow(doc: Layout, container: YMap | YSeq, starts: list[tuple[int, int]], index: int,
                 empty: str) -> TextEdits:
    """Remove entry or item ``index`` (starting at ``starts[index]``) of a flow collection with its comma."""
    ends = [doc.content_end(v) for v in (container.items if isinstance(container, YSeq)
                                         else [v for _, v in container.items])]
    if len(starts) == 1:
        return [(container.span, empty)]
    if index + 1 < len(starts):
        return [(Span(*starts[index], *starts[index + 1]), "")]
    return [(Span(*ends[index - 1], *ends[index]), "")]


def remove_entry(doc: Layout, mapping: YMap, key: str, owner: YScalar | None = None) -> TextEdits:
    """Remove ``key`` and its value (the whole lines of a block entry). Removing the last entry leaves
    ``{}``. Raises ``KeyError`` when the mapping has no ``key``."""
    indexes = [i for i, (k, _) in enumerate(mapping.items) if k.value == key]
    if not indexes:
        raise KeyError(key)
    index = indexes[-1]  # the last of duplicate keys is the one that counts
    item_key, value = mapping.items[index]
    if doc.is_flow(mapping):
        return _remove_flow(doc, mapping, [(k.span.start_line, k.span.start_col) for k, _ in mapping.items],
                            index, "{}")
    if len(mapping.items) == 1:
        return _emptied(doc, mapping, owner, "{}")
    start = item_key.span
    if doc.lines[start.start_line][:start.start_col].strip():
        # The first key of a sequence item shares the line with its dash: only the entry's text goes, and
        # the item's other keys, on the lines below, go on holding the item.
        return [_replacing(doc, (start.start_line, start.start_col), doc.content_end(value), "")]
    end = doc.line_start(max(doc.next_line(value), start.end_line + 1))
    return [(Span(start.start_line, 0, *end), "")]


def dash_line(doc: Layout, seq: YSeq, item: YNode) -> int:
    """The line of the dash that starts ``item`` of a block sequence (it may stand alone above the item's
    text)."""
    col, line = seq.span.start_col, item.span.start_line
    while line > seq.span.start_line and doc.lines[line][col:col + 1] != "-":
        line -= 1
    return line


def append_item(doc: Layout, seq: YSeq, item: dict[str, Any]) -> TextEdits:
    """Add a mapping at the end of a non-empty sequence, laid out as its first item is."""
    if doc.is_flow(seq):
        return [(Span.point(*doc.content_end(seq.items[-1])), ", " + inline(item, True))]
    dash = seq.span.start_col
    first = seq.items[0]
    offset = first.span.start_col - dash if isinstance(first, YMap) and first.span.start_line == seq.span.start_line \
        and first.span.start_col > dash else 2
    return [insert_lines(doc, doc.next_line(seq), doc.item_lines(item, dash, offset))]


def add_item(doc: Layout, parent: YMap, key: str, item: dict[str, Any]) -> TextEdits:
    """Append ``item`` to the sequence under ``key`` of ``parent``, creating the sequence when the key
    is missing, null or ``[]``. Raises ``EditError`` when ``key`` holds something else."""
    current, owner = parent.get(key), parent.key(key)
    if current is None or owner is None:
        return insert_entry(doc, parent, key, [item])
    if isinstance(current, YSeq) and current.items:
        return append_item(doc, current, item)
    if isinstance(current, YSeq) or is_null(current):
        return _fill(doc, parent, owner, current, [item])
    raise EditError(f"Line {current.span.start_line + 1}: '{key}' must be a list ('- name: ...' items); "
                    "fix it before adding to it.")


def remove_item(doc: Layout, seq: YSeq, index: int, owner: YScalar | None = None) -> TextEdits:
    """Remove item ``index`` of a sequence (the whole lines of a block item); removing the last item
    leaves ``[]``."""
    item = seq.items[index]
    if doc.is_flow(seq):
        return _remove_flow(doc, seq, [(i.span.start_line, i.span.start_col) for i in seq.items], index, "[]")
    if len(seq.items) == 1:
        return _emptied(doc, seq, owner, "[]")
    return [(Span(dash_line(doc, seq, item), 0, *doc.line_start(doc.next_line(item))), "")]


def applied_text(text: str, edits: TextEdits) -> str:
    """``text`` after ``edits`` (non-overlapping spans of ``text``, in any order): what the editor will
    show once it applies them."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    out = text
    for span, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:starts[span.start_line] + span.start_col] + new + out[starts[span.end_line] + span.end_col:]
    return out
