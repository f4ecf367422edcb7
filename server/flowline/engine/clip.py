"""Run values cut down to what an editor can hold.

Events carry node outputs, inputs and printed lines whole, and the CLI and the events file keep them
whole. A tool may return 100 MB, though, and the editor (the run panel, its saved history, the
hover) cannot take that: the language server relays every event, the run's answer and the outputs
it remembers for hover through :func:`clip`, which bounds a JSON value (what ``json.loads`` gives):

- a string longer than ``text`` characters (code points) keeps its start and ends with a marker,
  ``… [4,935,000 more characters; run `flowline flow test --events FILE` for the whole value]``,
  that makes it exactly ``text`` characters long;
- a list longer than ``items`` keeps its first ``items - 1`` items and a marker string as its last
  item (``… [N more items; …]``); an object with more than ``items`` keys keeps its first
  ``items - 1`` keys and a key ``…`` with a marker (``… [N more keys; …]``);
- the whole stays within about ``total`` characters of compact JSON (escapes not counted, so a value
  full of quotes or control characters may serialize larger): when the above leaves more, every
  string is cut at the largest length that fits (strings of up to ``SHORT`` characters stay whole,
  so names, ids and times survive), and when even that is too much (many small values), every
  nested list and object at the largest number of items that fits. The outermost list or object (an
  event's own fields) keeps its items; lists and objects nested deeper than ``DEPTH`` keep only
  their marker. With the default limits the result always fits.

Clipping a clipped value changes nothing. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TEXT = 64 * 1024
"""The longest string passed on (characters)."""
ITEMS = 1000
"""The most items of one list, or keys of one object, passed on (the marker counts as one)."""
TOTAL = 1024 * 1024
"""About the most characters of compact JSON one clipped value (one event, one answer) takes."""
SHORT = 256
"""Strings this short are never cut to make the whole fit (they are cut only when longer than ``text``)."""
DEPTH = 100
"""Lists and objects nested deeper than this keep only their marker."""
WHOLE = "run `flowline flow test --events FILE` for the whole value"
"""Where the whole value is: the CLI writes every event unclipped (``--events -`` for stdout)."""
MARKER_KEY = "…"


def _marker(count: int, what: str) -> str:
    return f"… [{count:,} more {what}; {WHOLE}]"


def _cut_point(length: int, cap: int) -> tuple[int, str]:
    """How many characters of a string of ``length`` characters (more than ``cap``) stay, and the marker
    that follows them: ``cap`` characters in all (just the marker when ``cap`` is shorter than that)."""
    marker = _marker(length - cap, "characters")
    while True:  # the count's digits depend on how much is kept, and how much is kept on the marker
        kept = max(0, cap - len(marker))
        again = _marker(length - kept, "characters")
        if len(again) == len(marker):
            return kept, again
        marker = again


def _cut_text(value: str, cap: int) -> str:
    """``value`` if it has at most ``cap`` characters, else its start and a marker (see ``_cut_point``)."""
    if len(value) <= cap:
        return value
    kept, marker = _cut_point(len(value), cap)
    return value[:kept] + marker


def _text_size(value: str, cap: int) -> int:
    """Characters of ``_cut_text(value, cap)`` as a JSON string (with its quotes, escapes not counted)."""
    if len(value) <= cap:
        return len(value) + 2
    kept, marker = _cut_point(len(value), cap)
    return kept + len(marker) + 2


def _scalar_size(value: Any) -> int:
    """Characters of a number, ``true``, ``false`` or ``null`` in JSON (about, for floats)."""
    if value is None or isinstance(value, bool):
        return 5
    return len(repr(value))


class _Limits:
    """One way to clip: strings cut at ``cap`` characters, the outermost list or object at ``items``
    items and the nested ones at ``count``."""

    def __init__(self, cap: int, items: int, count: int) -> None:
        self.cap, self.items, self.count = cap, items, count

    def _kept(self, size: int, depth: int) -> int:
        """How many items of a list or object of ``size`` items stay (its marker not counted)."""
        if depth > DEPTH:
            return 0
        limit = self.items if depth == 0 else self.count
        return size if size <= limit else limit - 1

    def size(self, value: Any, depth: int, budget: int) -> int:
        """Characters of ``self.cut(value, depth)`` in compact JSON, counted until past ``budget``
        (then any number past it)."""
        if isinstance(value, str):
            return _text_size(value, self.cap)
        if isinstance(value, dict):
            pairs: Any = value.items()
            marker_size = len(MARKER_KEY) + 3
        elif isinstance(value, list):
            pairs = ((None, item) for item in value)
            marker_size = 0
        else:
            return _scalar_size(value)
        kept = self._kept(len(value), depth)
        total = 2 + kept  # the brackets, and a comma (or the closing bracket) after each item
        if kept < len(value):
            total += marker_size + len(_marker(len(value) - kept, "keys" if marker_size else "items")) + 3
        for index, (key, item) in enumerate(pairs):
            if index == kept or total > budget:
                break
            if key is not None:
                total += _text_size(key, self.cap) + 1
            total += self.size(item, depth + 1, budget - total)
        return total

    def cut(self, value: Any, depth: int = 0) -> Any:
        """A copy of ``value`` with its strings, lists and objects cut to these limits."""
        if isinstance(value, str):
            return _cut_text(value, self.cap)
        if isinstance(value, list):
            kept = self._kept(len(value), depth)
            items = [self.cut(item, depth + 1) for item in value[:kept]]
            return items + [_marker(len(value) - kept, "items")] if kept < len(value) else items
        if isinstance(value, dict):
            kept = self._kept(len(value), depth)
            result: dict[str, Any] = {}
            for index, (key, item) in enumerate(value.items()):
                if index == kept:
                    break
                # two long keys cut to the same text keep the first one's value
                result.setdefault(_cut_text(key, self.cap), self.cut(item, depth + 1))
            if kept < len(value):
                marker_key = MARKER_KEY
                while marker_key in result:
                    marker_key += MARKER_KEY
                result[marker_key] = _marker(len(value) - kept, "keys")
            return result
        return value


def _largest(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest ``n`` in ``low..high`` for which ``fits(n)`` (which then holds for all below it), or ``None``."""
    if not fits(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def clip(value: Any, *, text: int = TEXT, items: int = ITEMS, total: int = TOTAL) -> Any:
    """A copy of the JSON ``value`` cut to the limits of the module's docstring: ``text`` characters per
    string, ``items`` (at least 1) per list or object, about ``total`` characters in all."""
    def fits(limits: _Limits) -> bool:
        return limits.size(value, 0, total) <= total

    limits = _Limits(text, items, items)
    if not fits(limits):
        short = min(SHORT, text)
        cap = _largest(short, text, lambda cap: fits(_Limits(cap, items, items)))
        if cap is not None:
            limits = _Limits(cap, items, items)
        else:
            count = _largest(1, items, lambda count: fits(_Limits(short, items, count)))
            limits = _Limits(short, items, count or 1)
    return limits.cut(value)
