"""Images in the HTML report: a line's image values (``{"data:image/png;path": "images/..."}``) as pictures.

A run keeps its images as files in its folder (:mod:`flowline.engine.image_files`); the report embeds
them as data URIs, so the page stays one self-contained file that loads nothing from the network. An
image known only by its URL is shown as a link (the report fetches nothing).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

_KEY = re.compile(r"^data:(image/[^;]*);(path|url)$")
_VISION = {"image_file": "path", "image_url": "url"}
MAX_EMBEDDED = 5 * 1024 * 1024
"""Bytes of one image the report embeds; a larger one is shown by its file name."""


def _reference(value: Any) -> tuple[str, str, str] | None:
    """``(mime, kind, target)`` of an image dict in either message format, else ``None``."""
    if not isinstance(value, dict):
        return None
    if len(value) == 1:
        key, target = next(iter(value.items()))
        match = _KEY.match(key) if isinstance(key, str) else None
        return (match.group(1), match.group(2), target) if match and isinstance(target, str) else None
    kind = _VISION.get(value.get("type", ""))
    inner = value.get(value.get("type", ""))
    if len(value) == 2 and kind and isinstance(inner, dict) and isinstance(inner.get(kind), str):
        return "image/*", kind, inner[kind]
    return None


def _picture(mime: str, kind: str, target: str, folder: Path) -> str:
    esc = html.escape
    if kind == "url":
        return f"<a href='{esc(target)}'>{esc(target)}</a>"
    path = Path(target) if Path(target).is_absolute() else folder / target
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_EMBEDDED else None
    except OSError:
        return f"<span class='failed'>{esc(target)} (missing)</span>"
    if data is None:
        return esc(target)
    source = f"data:{'image/png' if mime.endswith('/*') else mime};base64,{base64.b64encode(data).decode()}"
    return f"<img class='image' alt='{esc(target)}' title='{esc(target)}' src='{source}'>"


def image_html(value: Any, folder: Path) -> str | None:
    """The pictures of a cell whose value is an image or a list of images; ``None`` for other values."""
    items = value if isinstance(value, list) and value else [value]
    references = [_reference(item) for item in items]
    if not all(references):
        return None
    return "".join(_picture(*reference, folder) for reference in references if reference)
