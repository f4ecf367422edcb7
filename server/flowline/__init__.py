"""Flowline: a fast, local workbench for Prompt-flow-style flows.

Tool files use ``from flowline import tool`` (and ``log_metric``, ``ToolProvider``); scripts and notebooks use
``flowline.Client`` (the SDK, loaded on first use so that ``import flowline`` stays fast).
"""

from typing import Any

from flowline.tools import ToolProvider, log_metric, tool

__all__ = ["Client", "ConnectionNotFoundError", "FlowRunError", "FlowValidationError", "ProblemInfo",
           "RequestError", "Run", "RunNotFoundError", "ToolProvider", "UserError", "log_metric", "tool"]
__version__ = "0.1.0"

_SDK = frozenset({"Client", "ConnectionNotFoundError", "FlowRunError", "FlowValidationError", "ProblemInfo",
                  "RequestError", "Run", "RunNotFoundError", "UserError"})


def __getattr__(name: str) -> Any:
    if name in _SDK:
        import flowline.client

        return getattr(flowline.client, name)
    raise AttributeError(f"module 'flowline' has no attribute '{name}'")
