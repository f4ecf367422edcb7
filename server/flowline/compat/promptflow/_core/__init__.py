"""Stand-in for ``promptflow._core``: the one part tool files import (``promptflow._core.tool``)."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute

__all__ = ["tool"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
