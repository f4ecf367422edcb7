"""Stand-in for ``promptflow.entities``: the connection classes and the tool input settings."""

from flowline.compat.promptflow._core.tool import DynamicList, InputSetting
from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection
from flowline.connections.strong_type import CustomStrongTypeConnection

__all__ = ["AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection", "DynamicList", "InputSetting",
           "OpenAIConnection"]
