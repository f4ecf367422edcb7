"""Images as tools see them: ``Image`` (bytes with a mime type), as Prompt flow defines it.

Tool files import it as ``from promptflow.contracts.multimedia import Image`` (served by the shim) or
``from flowline.images import Image``; ``flowline/__init__`` does not import it, so start-up stays free.
Mirrors promptflow 1.18.5's ``promptflow.contracts.multimedia``: ``Image`` is a ``bytes`` subclass with
``_mime_type`` (guessed from the bytes when not given, ``image/*`` when unknown), ``source_url``,
``to_base64(with_type=False)``, and ``str()``/``repr()`` ``Image(<8 hex digits of its SHA-1>)``, the
text a prompt template renders it as. ``ImageLink`` is Flowline's own: an image known by its URL,
fetched only when a tool needs its bytes (:meth:`ImageLink.fetch`).

How an image is written into outputs, events and run records is the run's choice: the engine sets
:data:`image_writer` (a file in the run's folder, its dict form ``{"data:image/png;path": ...}``
in the JSON); without one an image's JSON form is its base64 dict.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# The first bytes of the image formats models and browsers take, and their mime types.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
               (b"GIF89a", "image/gif"), (b"BM", "image/bmp"), (b"II*\x00", "image/tiff"),
               (b"MM\x00*", "image/tiff"), (b"\x00\x00\x01\x00", "image/x-icon"))

image_writer: ContextVar[Callable[[Image | ImageLink], Any] | None] = ContextVar("flowline_image_writer",
                                                                               default=None)
"""Set by the engine for a run: turns an image into its JSON form (and writes its file)."""


def guess_mime(data: bytes) -> str:
    """The mime type the bytes' signature says (``image/*`` when it is no known image format)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for signature, mime in _SIGNATURES if data.startswith(signature)), "image/*")


class PFBytes(bytes):
    """Bytes with a mime type and, when they came from the web, the URL they came from."""

    def __new__(cls, value: bytes, *args: Any, **kwargs: Any) -> PFBytes:
        return super().__new__(cls, value)

    def __init__(self, value: bytes, mime_type: str, source_url: str | None = None) -> None:
        super().__init__()
        self._hash = hashlib.sha1(value).hexdigest()[:8]
        self._mime_type = mime_type.lower()
        self._source_url = source_url

    @property
    def source_url(self) -> str | None:
        """The URL the bytes were fetched from, if any."""
        return self._source_url

    @property
    def mime_type(self) -> str:
        """The mime type, such as ``image/png``."""
        return self._mime_type

    def to_base64(self, with_type: bool = False) -> str:
        """The bytes in base64; ``with_type``: as a data URI (``data:image/png;base64,...``)."""
        encoded = base64.b64encode(self).decode("ascii")
        return f"data:{self._mime_type};base64,{encoded}" if with_type else encoded


class Image(PFBytes):
    """An image: its bytes, mime type and source URL (see the module)."""

    __flowline_image__ = True

    def __init__(self, value: bytes, mime_type: str | None = None, source_url: str | None = None) -> None:
        super().__init__(value, mime_type or guess_mime(value), source_url)

    def __str__(self) -> str:
        return f"Image({self._hash})"

    def __repr__(self) -> str:
        return f"Image({self._hash})"

    def serialize(self, encoder: Callable[[Image], Any] | None = None) -> Any:
        """The image through ``encoder``, or its ``str`` without one (as promptflow's ``serialize``)."""
        return str(self) if encoder is None else encoder(self)

    def __json__(self) -> Any:
        writer = image_writer.get()
        return writer(self) if writer is not None else {f"data:{self._mime_type};base64": self.to_base64()}


@dataclass(frozen=True)
class ImageLink:
    """An image given by URL and not fetched yet: flow outputs and LLM requests pass the URL on;
    a Python tool gets the :class:`Image` (``fetch`` is the engine's, with a size limit and a timeout)."""

    __flowline_image__ = True

    url: str
    mime_type: str = "image/*"

    @property
    def source_url(self) -> str:
        """The URL (as an :class:`Image` fetched from it would say)."""
        return self.url

    def __str__(self) -> str:
        return f"Image({hashlib.sha1(self.url.encode()).hexdigest()[:8]})"

    def __json__(self) -> Any:
        writer = image_writer.get()
        return writer(self) if writer is not None else {f"data:{self.mime_type};url": self.url}


class Text(str):
    """A text part of an ``openai-vision`` message (``{"type": "text", "text": ...}``), as promptflow's."""

    _annotations: list[Any] | None

    def __new__(cls, value: str, annotations: list[Any] | None = None) -> Text:
        text = super().__new__(cls, value)
        text._annotations = annotations
        return text

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Text:
        """A text from its dict form (``text`` a string, or ``{value, annotations}``)."""
        text = data.get("text", "")
        if isinstance(text, dict):
            return cls(text.get("value", ""), text.get("annotations", []))
        return cls(text)

    def serialize(self) -> dict[str, Any]:
        """The dict form."""
        if self._annotations is None:
            return {"type": "text", "text": str(self)}
        return {"type": "text", "text": {"value": str(self), "annotations": self._annotations}}
