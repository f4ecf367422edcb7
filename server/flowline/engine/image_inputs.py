"""Image values read from what a flow is given: paths, URLs, data URIs and promptflow's dict forms.

Mirrors promptflow 1.18.5 (observed with ``pf flow test`` and ``pf run create``):
- an ``image`` flow input (or a tool parameter annotated ``Image``) takes a file path (relative to the
  flow folder in ``flow test``, to the data file's folder in a batch run), an ``http(s)`` URL, a data URI
  ``data:image/png;base64,...``, bare base64, or a one-key dict ``{"data:image/png;path|url|base64": ...}``;
  a list of those is a list of images (what an aggregation node gets);
- a ``list`` or ``object`` input keeps its strings, but each one-key dict of that form inside it, at any
  depth, becomes an image; with ``message_format: openai-vision`` the forms are instead
  ``{"type": "image_url", "image_url": {"url": ...}}``, ``{"type": "image_file", "image_file": {"path": ...}}``
  and ``{"type": "text", "text": ...}`` (a :class:`~flowline.images.Text`).
Departure: promptflow fetches a URL when it reads the input and refuses private and loopback addresses;
Flowline keeps an :class:`~flowline.images.ImageLink` and fetches it only for a Python tool
(:func:`fetch_links`), with a size limit (``FLOWLINE_IMAGE_MAX_BYTES``, 20 MB) and a timeout
(``FLOWLINE_IMAGE_TIMEOUT``, 30 s); an LLM request and a flow output pass the URL on unfetched. A served flow
(``flow serve``) fetches them as promptflow does, when it reads the request, refusing private addresses and
bytes that are no image (:mod:`flowline.serve.image_urls`).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flowline.flow.types import ConversionError
from flowline.images import Image, ImageLink, Text, guess_mime

_DICT_KEY = re.compile(r"^data:(image/[^;]*);(path|base64|url)$")
_DATA_URI = re.compile(r"^data:(image/[^;,]*);base64,(.*)$", re.DOTALL)
_BASE64 = re.compile(r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+")
_EXTENSIONS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".bmp": "image/bmp"}
FORMS = ('a file path, an http(s) URL, a data URI or {"data:image/png;path": "a.png"} '
         '(also ;url and ;base64)')
VISION = "openai-vision"


SHOWN = 200
"""The longest URL or path a message shows whole."""


def shown(text: str) -> str:
    """A URL or path as a message shows it: whole up to :data:`SHOWN` characters, else its start and end
    and how long it is (a data URL of 70 KB in a message helps no one)."""
    if len(text) <= SHOWN:
        return text
    return f"{text[:120]}…{text[-60:]} ({len(text):,} characters)"


class ImageInputError(ValueError):
    """A value that is no image; the message says which forms are."""


def is_image_dict(value: dict[str, Any], message_format: str | None = None) -> bool:
    """Whether a dict is an image in the flow's message format (see the module)."""
    if message_format == VISION:
        kind = value.get("type")
        inner = value.get(kind) if isinstance(kind, str) else None
        return len(value) == 2 and isinstance(inner, dict) and (
            (kind == "image_url" and "url" in inner) or (kind == "image_file" and "path" in inner))
    return len(value) == 1 and _DICT_KEY.match(next(iter(value))) is not None


def _from_file(text: str, base: Path | None, mime: str | None) -> Image:
    if base is None:  # a request to `flow serve`: the server's files are not the caller's to read
        raise ImageInputError(f"image '{shown(text)}' is a file path, which is not read from a request; send the "
                              "image as a URL, a data URI or {\"data:image/png;base64\": \"...\"}")
    path = Path(text)
    path = path if path.is_absolute() else base / path
    try:
        return Image(path.read_bytes(), mime)
    except OSError as exc:
        raise ImageInputError(f"image file '{shown(text)}' cannot be read ({exc.strerror}; relative paths are read "
                              f"from {base})") from exc


def _from_base64(text: str, mime: str | None) -> Image:
    try:
        return Image(base64.b64decode(text, validate=True), mime)
    except (binascii.Error, ValueError) as exc:
        raise ImageInputError(f"'{text[:40]}...' is not valid base64 ({exc})") from exc


def _link(url: str, mime: str | None = None) -> ImageLink:
    suffix = Path(url.split("?", 1)[0]).suffix.lower()
    return ImageLink(url, mime or _EXTENSIONS.get(suffix, "image/*"))


def _from_string(text: str, base: Path | None, mime: str | None = None) -> Image | ImageLink:
    uri = _DATA_URI.match(text)
    if uri is not None:
        return _from_base64(uri.group(2), mime or uri.group(1))
    if _URL.match(text):
        if not text.startswith(("http://", "https://")):
            raise ImageInputError(f"image URL '{shown(text)}' is not http(s)")
        return _link(text, mime)
    if _BASE64.match(text) and (base is None or not (base / text).exists()):  # as promptflow: base64 first
        return _from_base64(text, mime)
    return _from_file(text, base, mime)


def _from_dict(value: dict[str, Any], base: Path | None, message_format: str | None) -> Image | ImageLink | Text:
    if message_format == VISION:
        if value.get("type") == "text":
            return Text.deserialize(value)
        if value["type"] == "image_file":
            return _from_file(str(value["image_file"]["path"]), base, None)
        return _from_string(str(value["image_url"]["url"]), base)
    key, data = next(iter(value.items()))
    match = _DICT_KEY.match(key)
    assert match is not None  # is_image_dict said so
    mime, resource = match.group(1), match.group(2)
    mime = None if mime.endswith("/*") else mime
    if not isinstance(data, str):
        raise ImageInputError(f"the value of '{key}' is a {type(data).__name__}, not text")
    if resource == "path":
        return _from_file(data, base, mime)
    if resource == "base64":
        return _from_base64(data.split(",")[-1], mime)
    if not data.startswith(("http://", "https://")):
        raise ImageInputError(f"image URL '{shown(data)}' is not http(s)")
    return _link(data, mime)


def to_image(value: Any, base: Path | None, message_format: str | None = None) -> Any:
    """An ``image`` value (a list of them: a list of images) as an :class:`Image` or :class:`ImageLink`;
    relative paths are read from ``base``, and with no ``base`` no path is read (a request to a server).

    Raises :class:`ImageInputError` for a value in none of the forms, an unreadable file or bad base64."""
    if isinstance(value, (Image, ImageLink)):
        return value
    if isinstance(value, list):
        return [to_image(item, base, message_format) for item in value]
    if isinstance(value, dict):
        if not is_image_dict(value, message_format):
            raise ImageInputError(f"{str(value)[:80]} is no image; an image is {FORMS}")
        return _from_dict(value, base, message_format)
    if isinstance(value, str):
        if not value:
            raise ImageInputError(f"the image is empty; give {FORMS}")
        return _from_string(value, base)
    raise ImageInputError(f"a {type(value).__name__} is no image; give {FORMS}")


def load_images(value: Any, base: Path | None, message_format: str | None = None) -> Any:
    """A ``list``/``object`` value with each image dict inside it (see the module) made an image.
    Values without one are returned as they are (the same object)."""
    if isinstance(value, list):
        items = [load_images(item, base, message_format) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        if is_image_dict(value, message_format) or (message_format == VISION and _is_text_dict(value)):
            return _from_dict(value, base, message_format)
        loaded = {k: load_images(v, base, message_format) for k, v in value.items()}
        return value if all(loaded[k] is v for k, v in value.items()) else loaded
    return value


def _absolute(text: str, bases: Sequence[Path]) -> str:
    if Path(text).is_absolute():
        return text
    found = next((base for base in bases if (base / text).exists()), bases[-1])
    return str(found / text)


def rebase(value: Any, bases: Sequence[Path], whole: bool) -> Any:
    """``value`` with the relative file path of each image in it made absolute: joined to the first of
    ``bases`` that has the file, else to the last. Image dicts count at any depth (both message formats);
    a bare string only when ``whole`` (the value is for an ``image`` input) and it is no URL, data URI or
    base64. For values taken from another run, whose paths are relative to that run's folders."""
    if isinstance(value, list):
        return [rebase(item, bases, whole) for item in value]
    if isinstance(value, dict):
        if is_image_dict(value):
            key, data = next(iter(value.items()))
            return {key: _absolute(data, bases)} if key.endswith(";path") and isinstance(data, str) else value
        if is_image_dict(value, VISION) and value["type"] == "image_file":
            return {**value, "image_file": {**value["image_file"],
                                            "path": _absolute(str(value["image_file"]["path"]), bases)}}
        return {key: rebase(item, bases, False) for key, item in value.items()}
    if whole and isinstance(value, str) and value and not _DATA_URI.match(value) and not _URL.match(value):
        if not (_BASE64.match(value) and not any((base / value).exists() for base in bases)):
            return _absolute(value, bases)
    return value


def _is_text_dict(value: dict[str, Any]) -> bool:
    text = value.get("text")
    return len(value) == 2 and value.get("type") == "text" and (
        isinstance(text, str) or (isinstance(text, dict) and isinstance(text.get("value"), str)))


def fetch(link: ImageLink, guard: Callable[[str], None] | None = None, image_only: bool = False) -> Image:
    """The image at ``link.url`` (read at most ``FLOWLINE_IMAGE_MAX_BYTES``, within ``FLOWLINE_IMAGE_TIMEOUT``).

    ``guard`` is called with the URL and with every URL a redirect leads to before it is fetched; it raises
    :class:`ImageInputError` to refuse one (a served flow refuses private addresses). ``image_only``: bytes
    that are no PNG, JPEG, GIF, WebP or BMP are refused. Raises :class:`ImageInputError` naming the URL and
    what went wrong."""
    import urllib.error
    import urllib.request

    limit = int(os.environ.get("FLOWLINE_IMAGE_MAX_BYTES", str(20 * 1024 * 1024)))
    timeout = float(os.environ.get("FLOWLINE_IMAGE_TIMEOUT", "30"))
    opener = urllib.request.build_opener() if guard is None else urllib.request.build_opener(_Guarded(guard))
    if guard is not None:
        guard(link.url)
    try:
        with opener.open(link.url, timeout=timeout) as response:
            data = response.read(limit + 1)
    except ImageInputError:
        raise
    except urllib.error.HTTPError as exc:
        raise ImageInputError(f"Image URL '{shown(link.url)}' answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ImageInputError):  # a redirect the guard refused
            raise reason from None
        raise ImageInputError(f"Image URL '{shown(link.url)}' could not be fetched: {reason} (timeout {timeout:g} s, "
                              "FLOWLINE_IMAGE_TIMEOUT).") from None
    if len(data) > limit:
        raise ImageInputError(f"Image URL '{shown(link.url)}' holds more than {limit} bytes "
                              "(FLOWLINE_IMAGE_MAX_BYTES).")
    if image_only and guess_mime(data) == "image/*":
        raise ImageInputError(f"Image URL '{shown(link.url)}' answered with something that is no image (no PNG, "
                              "JPEG, GIF, WebP or BMP)")
    mime = link.mime_type if link.mime_type != "image/*" else guess_mime(data)
    return Image(data, mime, link.url)


def _Guarded(guard: Callable[[str], None]) -> Any:  # noqa: N802 - a handler class made for one guard
    import urllib.request

    class Guarded(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            guard(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return Guarded()


def has_links(value: Any) -> bool:
    """Whether an :class:`ImageLink` is in ``value`` (at any depth of lists and dicts)."""
    if isinstance(value, ImageLink):
        return True
    if isinstance(value, list):
        return any(has_links(item) for item in value)
    return type(value) is dict and any(has_links(item) for item in value.values())


def literal_image(node: str, name: str, value: Any) -> Any:
    """A literal node input for an ``Image`` parameter as an image (paths are read from the working
    directory, the flow folder). Raises :class:`ConversionError` naming the input."""
    try:
        return to_image(value, Path.cwd())
    except ImageInputError as exc:
        raise ConversionError(f"Input '{name}' of node '{node}' is not an image: {exc}.") from exc


def fetch_links(value: Any, guard: Callable[[str], None] | None = None, image_only: bool = False) -> Any:
    """``value`` with each :class:`ImageLink` in it (at any depth of lists and dicts) fetched (``guard`` and
    ``image_only`` as :func:`fetch` takes them); the same object when it holds none."""
    if isinstance(value, ImageLink):
        return fetch(value, guard, image_only)
    if isinstance(value, list):
        items = [fetch_links(item, guard, image_only) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict) and type(value) is dict:
        fetched = {k: fetch_links(v, guard, image_only) for k, v in value.items()}
        return value if all(fetched[k] is v for k, v in value.items()) else fetched
    return value
