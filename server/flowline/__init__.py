"""Flowline: a fast, local workbench for Prompt-flow-style flows.

Tool files use ``from flowline import tool`` (and ``log_metric``, ``ToolProvider``).
"""

from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]
__version__ = "0.1.0"
