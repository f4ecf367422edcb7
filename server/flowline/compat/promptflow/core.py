"""Stand-in for ``promptflow.core``."""

from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]
