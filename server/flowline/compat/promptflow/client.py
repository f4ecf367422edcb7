"""Stand-in for ``promptflow.client``: ``PFClient`` is :class:`flowline.Client` (same methods, same
arguments; cloud-only ones are accepted with a warning)."""

from typing import NoReturn

from flowline.client import Client as PFClient
from flowline.compat.shim import missing_attribute

__all__ = ["PFClient"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
