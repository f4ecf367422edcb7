"""Stand-in for ``promptflow``: what tool files import from it, served by Flowline."""

from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]
