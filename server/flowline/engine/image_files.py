"""Images in a run's outputs written as files, and shown in JSON as promptflow shows them.

promptflow 1.18.5 writes each image of a line's inputs and outputs to a file and puts its dict form in
the JSON: ``{"data:image/png;path": "<file>"}`` (``pf flow test`` prints an absolute path under the flow's
``.promptflow/output``; a batch run's records give paths inside its run folder), or with
``message_format: openai-vision`` ``{"type": "image_file", "image_file": {"path": ...}}``; an image fetched
from a URL is shown as that URL (``{"data:image/png;url": ...}``, ``{"type": "image_url", ...}``) and not
written. Flowline does the same; its files are named by the image's content (promptflow: a new random
name each time the image is written), so an image that appears in an input, a node's output and a flow
output is one file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowline.images import Image, ImageLink, image_writer

VISION = "openai-vision"


def extension(mime_type: str) -> str:
    """The file extension of a mime type (``image/png`` → ``.png``; none for ``image/*``)."""
    subtype = mime_type.split("/")[-1]
    return "" if subtype == "*" else "." + subtype


@dataclass(frozen=True)
class ImageFiles:
    """Writes images into ``folder``; their JSON names them relative to ``relative_to`` (absolute without)."""

    folder: Path
    relative_to: Path | None = None
    message_format: str | None = None

    def __call__(self, image: Image | ImageLink) -> dict[str, Any]:
        if image.source_url:
            mime = image.mime_type
            if self.message_format == VISION:
                return {"type": "image_url", "image_url": {"url": image.source_url}}
            return {f"data:{mime};url": image.source_url}
        assert isinstance(image, Image)  # an ImageLink always has its URL
        path = self.write(image)
        shown = path.relative_to(self.relative_to).as_posix() if self.relative_to else path.as_posix()
        if self.message_format == VISION:
            return {"type": "image_file", "image_file": {"path": shown}}
        return {f"data:{image.mime_type};path": shown}

    def write(self, image: Image) -> Path:
        """The image's file in the folder (written once: the name is its content's hash)."""
        path = self.folder / (hashlib.sha1(image).hexdigest()[:16] + extension(image.mime_type))
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}.part")  # worker processes may write it too
            partial.write_bytes(image)
            partial.replace(path)
        return path


def flow_test_files(flow_dir: Path, message_format: str | None) -> ImageFiles:
    """Where ``flow test`` writes images: the flow's ``.promptflow/output``, named by absolute path."""
    return ImageFiles((flow_dir / ".promptflow" / "output").resolve(), None, message_format)


def run_files(run_folder: Path, message_format: str | None) -> ImageFiles:
    """Where a batch run writes images: ``images/`` in its run folder, named relative to that folder."""
    folder = run_folder.resolve()
    return ImageFiles(folder / "images", folder, message_format)


@contextmanager
def writing_images(files: ImageFiles) -> Iterator[None]:
    """Images turned into JSON inside the block are written by ``files``."""
    token = image_writer.set(files)
    try:
        yield
    finally:
        image_writer.reset(token)
