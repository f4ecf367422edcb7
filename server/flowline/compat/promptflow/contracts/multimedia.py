"""Stand-in for ``promptflow.contracts.multimedia``: ``Image``, ``PFBytes`` and ``Text``."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute
from flowline.images import Image, PFBytes, Text

__all__ = ["Image", "PFBytes", "Text"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
