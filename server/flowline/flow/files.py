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
    """The text of a file on disk, or ``None`` when it cannot be read (missing, or not UTF-8:
    :func:`not_utf8` says which). A ``.py`` file is read as Python reads it: in the encoding a PEP 263
    ``coding`` comment names, and with bytes Python skips (in comments) replaced, as promptflow 1.18.5
    runs a tool whose comment is latin-1."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if path.suffix != ".py":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            compile(data, str(path), "exec", dont_inherit=True)  # raises SyntaxError unless only comments are bad
            return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError, ValueError):
        return None


def utf8_error(data: bytes, exc: UnicodeDecodeError) -> str:
    """Where ``data`` stops being UTF-8 and what to do:
    ``is not valid UTF-8: byte 0xE9 at offset 17 (line 2, column 5); re-save it as UTF-8``
    (the line and column are 1-based, the column counts characters)."""
    start = exc.start
    line, column = utf8_position(data, start)
    return (f"is not valid UTF-8: byte 0x{data[start]:02X} at offset {start} (line {line + 1}, column {column + 1}); "
            "re-save it as UTF-8 (in VS Code: the encoding in the status bar, then 'Save with Encoding')")


def utf8_position(data: bytes, offset: int) -> tuple[int, int]:
    """The 0-based line and column (in characters) of byte ``offset`` of ``data``, which is UTF-8 before it."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset), len(data[line_start:offset].decode("utf-8", errors="replace"))


class UserFileError(ValueError):
    """A file of the user's that cannot be read as text; the message says which, why and how to fix it."""


def read_user_text(path: Path, kind: str, encoding: str = "utf-8") -> str:
    """The text of ``path``, the user's ``kind`` file (``"data file"``, ``"run file"``...). Raises
    :class:`UserFileError`: ``Cannot read <kind> '<path>': <reason>.`` or ``<Kind> '<path>' is not
    valid UTF-8: ...`` (:func:`utf8_error`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserFileError(f"Cannot read {kind} '{path}': {exc.strerror}.") from exc
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UserFileError(f"{kind[:1].upper()}{kind[1:]} '{path}' {utf8_error(raw, exc)}.") from exc


def not_utf8(path: Path) -> str | None:
    """:func:`utf8_error` for a file that exists but is not UTF-8; ``None`` for any other file
    (a ``.py`` file in the encoding its ``coding`` comment names is fine)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if path.suffix == ".py" and read_disk(path) is not None:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return utf8_error(data, exc)
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
