"""Source positions of flow elements: 0-based line and column (code points) inside a file."""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    """A half-open range ``[start, end)`` in a text file, 0-based lines and columns.

    A named tuple rather than a dataclass: a flow file has one per key and value, and tuples are
    several times cheaper to create (this is the parser's hot path); they compare in order.
    """

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int) -> Span:
        """An empty span at one position."""
        return Span(line, col, line, col)

    def contains(self, line: int, col: int) -> bool:
        """True when the position lies inside the span (end inclusive, for cursors)."""
        if (line, col) < (self.start_line, self.start_col):
            return False
        return (line, col) <= (self.end_line, self.end_col)

    def shifted(self, col_from: int, length: int) -> Span:
        """A sub-span of a one-line span: ``length`` code points starting ``col_from`` columns in."""
        start = self.start_col + col_from
        return Span(self.start_line, start, self.start_line, start + length)

    def human(self) -> str:
        """``line:col`` with 1-based numbers, as editors and compilers print positions."""
        return f"{self.start_line + 1}:{self.start_col + 1}"


NO_SPAN = Span(0, 0, 0, 0)
