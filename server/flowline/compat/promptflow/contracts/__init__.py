"""Stand-in for ``promptflow.contracts``: the data types tool files use (``multimedia``)."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute

__all__ = ["multimedia", "types"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
