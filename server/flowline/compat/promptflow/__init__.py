"""Stand-in for ``promptflow``: what tool files import from it, served by Flowline, and ``PFClient``
(:class:`flowline.Client`, loaded when asked for) for scripts run with ``flowline exec``."""

from typing import Any

from flowline.compat.shim import missing_attribute
from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["PFClient", "ToolProvider", "log_metric", "tool"]


def __getattr__(name: str) -> Any:
    if name == "PFClient":
        from flowline.client import Client

        return Client
    raise missing_attribute(__name__, name)
