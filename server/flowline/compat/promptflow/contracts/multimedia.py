"""Stand-in for ``promptflow.contracts.multimedia``: ``Image``, ``PFBytes`` and ``Text``."""

from flowline.images import Image, PFBytes, Text

__all__ = ["Image", "PFBytes", "Text"]
