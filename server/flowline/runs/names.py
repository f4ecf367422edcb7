"""Run names: which names a run may have, and the name a run gets when none is given.

A run's name is also the name of its folder under ``FLOWLINE_HOME/.runs``, so a name that is a path
(``..``, ``a/b``, ``../../x``) would put a run, or `run delete`'s removal, outside that folder.
promptflow 1.18.5 takes any ``--name`` (observed: ``a/b`` made nested folders, ``.hidden`` a hidden
one); Flowline refuses the names that are paths or awkward in a shell and keeps the rest.
"""

from __future__ import annotations

import re
from datetime import datetime

# A letter, digit or `_` first; then letters, digits (any script), `_`, `-` and `.`; no `.` last
# (Windows drops a trailing dot, so `a.` and `a` would share a folder).
_NAME = re.compile(r"\w([\w.-]*[\w-])?")
_MAX_BYTES = 255  # the longest file name most file systems take
RULE = ("a run name has letters, digits, '_', '-' and '.' only, starting with a letter, digit or '_' "
        "and not ending in a dot")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a run, as one line (``Run name '..' is not allowed: a run name has
    letters, ...``), or ``None`` when it can. Names that are paths (``/``, ``\\``, a leading ``.``),
    hold spaces or control characters, or are longer than 255 bytes of UTF-8 cannot."""
    shown = name if name.isprintable() else repr(name)[1:-1]
    if not name:
        return "A run name cannot be empty: " + RULE + "."
    if _NAME.fullmatch(name) is None:
        return f"Run name '{shown}' is not allowed: {RULE}."
    if len(name.encode("utf-8")) > _MAX_BYTES:
        return f"Run name '{shown[:40]}...' is too long: a run name has at most {_MAX_BYTES} bytes in UTF-8."
    return None


def default_name(flow_folder: str, variant_id: str | None, now: datetime) -> str:
    """The name of a run created without one, as promptflow 1.18.5 makes it (observed):
    ``<flow folder>_<variant id, else variant_0>_<YYYYmmdd_HHMMSS_ffffff>``, lower-cased, each run of
    characters other than letters and digits made one ``_``, ``_`` trimmed from both ends, and ``n``
    put before a leading digit (``My Flow-2`` → ``my_flow_2_variant_0_20240101_120000_000000``).
    The result always passes :func:`name_problem`."""
    text = f"{flow_folder}_{variant_id or 'variant_0'}_{now:%Y%m%d_%H%M%S_%f}".lower()
    text = re.sub(r"[\W_]+", "_", text).strip("_")
    return "n" + text if re.match(r"\d", text) else text
