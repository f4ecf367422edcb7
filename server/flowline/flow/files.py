"""Files a flow refers to: tool sources, templates and ``additional_includes``, resolved in place.

Prompt flow copies each ``additional_includes`` entry into the flow folder under its base name
before running. Flowline resolves the same names to the original locations instead, so nothing
is copied and breakpoints in included files bind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flowline.flow.model import Flow

Reader = Callable[[Path], "str | None"]


def read_disk(path: Path) -> str | None:
    """The text of a file on disk, or ``None`` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def include_roots(flow: Flow) -> dict[str, Path]:
    """Base name → real path for every ``additional_includes`` entry."""
    roots: dict[str, Path] = {}
    for item in flow.additional_includes:
        if isinstance(item.value, str) and item.value:
            target = (flow.directory / item.value).resolve()
            roots[target.name] = target
    return roots


def resolve_source(flow: Flow, relative: str) -> Path:
    """Where a path written in the flow really is: in the flow folder, else in an include."""
    direct = flow.directory / relative
    if direct.exists():
        return direct
    parts = Path(relative).parts
    if parts:
        root = include_roots(flow).get(parts[0])
        if root is not None:
            return root.joinpath(*parts[1:])
    return direct
