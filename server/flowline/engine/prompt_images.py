"""Images in a chat prompt: the template variables that hold images become image parts of the request.

Mirrors promptflow 1.18.5's vision chat tools (``promptflow-tools`` 1.6.1): a template's
``![image]({{var}})`` is put on a line of its own as ``{{var}}``; an image renders as its ``str()``
(``Image(<hash>)``), and a message line that is exactly the text of an image the variables hold (at any
depth of lists and dicts) becomes an ``image_url`` part: the image's source URL when it came from one, else
its bytes as a data URI. So that the items of a list (a chat turn's ``[text, image]``) land on lines of their
own, lists render one item per line, as promptflow's ``ChatInputList`` does (only when images are present:
a prompt without images renders as before).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowline.images import Image, ImageLink

_IMAGE_VARIABLE = re.compile(r"!\[(\s*image\s*)\]\(\{\{(\s*[^\s{}]+\s*)\}\}\)")


class _Lines(list[Any]):
    """A list that renders as its items, one per line."""

    def __str__(self) -> str:
        return "\n".join(map(str, self))


class _Shown:
    """An image that renders as another text than its own: one of equal bytes but another MIME type (or
    source URL) than an image rendered before it, whose ``Image(<hash>)`` text would find that one's part."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _identity(image: Image | ImageLink) -> tuple[str, str, str | None]:
    return str(image), image.mime_type, image.source_url


def referenced_images(variables: Mapping[str, Any]) -> dict[str, Image | ImageLink]:
    """The images the variables hold, by the text they render as (:func:`as_lines`): ``Image(<hash>)`` of
    their bytes, as in promptflow; a later image of the same bytes and another MIME type or source URL
    renders as ``Image(<hash>, <mime>[, <n>])``, so that each keeps its own part."""
    found: dict[str, Image | ImageLink] = {}
    seen: set[tuple[str, str, str | None]] = set()

    def visit(value: Any) -> None:
        if isinstance(value, (Image, ImageLink)):
            if _identity(value) in seen:
                return
            seen.add(_identity(value))
            text, count = str(value), 1
            while text in found:
                count += 1
                text = f"{str(value)[:-1]}, {value.mime_type}{'' if count == 2 else f', {count}'})"
            found[text] = value
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in variables.values():
        visit(value)
    return found


def image_lines_template(template: str) -> str:
    """``![image]({{var}})`` written as ``{{var}}`` on a line of its own."""
    return _IMAGE_VARIABLE.sub(lambda m: "\n{{" + m.group(2) + "}}\n", template)


def as_lines(value: Any, images: Mapping[str, Image | ImageLink]) -> Any:
    """``value`` with every list in it rendering one item per line, and each image of ``images`` (from
    :func:`referenced_images`) rendering as its text there."""
    texts = {_identity(image): text for text, image in images.items()}

    def convert(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: convert(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return _Lines(convert(inner) for inner in item)
        if isinstance(item, (Image, ImageLink)) and texts.get(_identity(item), str(item)) != str(item):
            return _Shown(texts[_identity(item)])
        return item

    return convert(value)


def image_url(image: Image | ImageLink) -> str:
    """What an image part sends: the URL the image came from, else a data URI of its bytes."""
    if image.source_url:
        return image.source_url
    assert isinstance(image, Image)
    return image.to_base64(with_type=True)
