"""Stand-in for ``promptflow.entities``: the connection classes, the tool input settings and ``Run``
(:class:`flowline.Run`, loaded when asked for)."""

from typing import Any

from flowline.compat.promptflow._core.tool import DynamicList, InputSetting
from flowline.compat.shim import missing_attribute
from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection, SerpConnection
from flowline.connections.strong_type import CustomStrongTypeConnection

# Run comes from __getattr__, so a tool file importing this module does not load the SDK.
__all__ = ["AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection", "DynamicList",  # noqa: F822
           "InputSetting", "OpenAIConnection", "Run", "SerpConnection"]


def __getattr__(name: str) -> Any:
    if name == "Run":
        from flowline.client import Run

        return Run
    raise missing_attribute(__name__, name)
