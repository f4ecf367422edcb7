"""Re-parsing after an edit: only the node block that changed goes through the YAML parser again.

A 300-node flow takes a full parse of tens of milliseconds, most of it spent on nodes the edit did
not touch. When the previous text parsed cleanly and is plain YAML (one block-style document, no
anchors, aliases or tags), an edit confined to one item of the top-level ``nodes:`` sequence can
only change that item: its lines are parsed alone (padded with blank lines, so positions are
those of the whole text) and the items after it are reused, moved by the number of lines the
edit added or removed. Anything else — an edit that spills outside the item, a line that would
close the sequence, a syntax error — falls back to a full parse, which has the final word.
"""

from __future__ import annotations

from typing import cast

from flowline.flow.parse import Document, YMap, YNode, YScalar, YSeq, parse
from flowline.flow.spans import Span

_new = tuple.__new__


def _shift(node: YNode, lines: int) -> YNode:
    """A copy of a subtree moved down by ``lines`` (negative: up)."""
    # Built with tuple.__new__: the named tuples' own constructors cost a Python call per object,
    # and a 300-node flow has thousands of them below a new line.
    start_line, start_col, end_line, end_col = node.span
    span = _new(Span, (start_line + lines, start_col, end_line + lines, end_col))
    if isinstance(node, YScalar):
        return _new(YScalar, (node.value, node.raw, span, node.quoted))  # type: ignore[no-any-return]
    if isinstance(node, YSeq):
        return _new(YSeq, (tuple([_shift(i, lines) for i in node.items]), span))  # type: ignore[no-any-return]
    pairs = tuple([(_shift(k, lines), _shift(v, lines)) for k, v in node.items])
    return _new(YMap, (pairs, span))  # type: ignore[no-any-return]


def _moved(span: Span, start: int, end: int) -> Span:
    return Span(span.start_line + start, span.start_col, span.end_line + end, span.end_col)


def _changed_lines(old: list[str], new: list[str]) -> tuple[int, int]:
    """(first changed line, number of unchanged lines at the end), comparing line lists."""
    limit = min(len(old), len(new))
    first = 0
    while first < limit and old[first] == new[first]:
        first += 1
    tail = 0
    while tail < limit - first and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return first, tail


def _stays_inside(lines: list[str], column: int) -> bool:
    """True when every content line belongs to a sequence item that starts at ``column``."""
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if "\t" in line[:indent + 1] or indent < column:
            return False
        if indent == column and not (stripped == "-" or stripped.startswith("- ")):
            return False
    return True


def _item_line(line: str, column: int) -> bool:
    """True for a line whose sequence item's "-" stands at ``column``."""
    return line[column:column + 2] in ("- ", "-") and not line[:column].strip(" ")


def _reparse_node_block(previous: Document, text: str) -> Document | None:
    root = previous.root
    if not previous.plain or not isinstance(root, YMap):
        return None
    nodes = root.get("nodes")
    if not isinstance(nodes, YSeq) or len(nodes.items) < 2:
        return None
    old, new = previous.text.split("\n"), text.split("\n")
    first, tail = _changed_lines(old, new)
    old_end = len(old) - tail  # changed old lines: [first, old_end)
    delta = len(new) - len(old)
    starts = [item.span.start_line for item in nodes.items]
    column = nodes.span.start_col  # where each item's "-" stands
    # The changed lines must lie inside one item that has a successor (whose first line closes it).
    index = next((i for i in range(len(starts) - 1) if starts[i] <= first and old_end <= starts[i + 1]), None)
    if index is None:
        return None
    begin, stop = starts[index], starts[index + 1] + delta
    block = new[begin:stop]
    if not block or not _stays_inside(block, column) or not _item_line(new[begin], column) \
            or not _item_line(new[stop], column):
        return None
    # The next item's first line ends the block exactly as it does in the whole text.
    padded = "\n" * begin + "\n".join(block + [new[stop]]) + "\n"
    part = parse(padded)
    if part.problems or not part.plain or not isinstance(part.root, YSeq) or len(part.root.items) < 2:
        return None
    later = nodes.items[index + 1:]
    if delta:
        later = tuple(_shift(item, delta) for item in later)
    items = nodes.items[:index] + part.root.items[:-1] + later
    new_nodes = YSeq(items, _moved(nodes.span, 0, delta))
    pairs: list[tuple[YScalar, YNode]] = []
    after = False
    for key, value in root.items:
        if value is nodes:
            pairs.append((key, new_nodes))
            after = True
        elif after and delta:
            pairs.append((cast(YScalar, _shift(key, delta)), _shift(value, delta)))
        else:
            pairs.append((key, value))
    return Document(YMap(tuple(pairs), _moved(root.span, 0, delta)), (), text, True)


def reparse(previous: Document | None, text: str) -> Document:
    """The parse of ``text``, reusing ``previous`` (the parse of an earlier text) where it can."""
    if previous is not None:
        if previous.text == text:
            return previous
        reused = _reparse_node_block(previous, text)
        if reused is not None:
            return reused
    return parse(text)
