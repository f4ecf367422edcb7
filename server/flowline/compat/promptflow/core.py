"""Stand-in for ``promptflow.core``."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute
from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
