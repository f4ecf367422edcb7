"""Stand-in for ``promptflow.entities``: the connection classes and the tool input settings."""

from typing import NoReturn

from flowline.compat.promptflow._core.tool import DynamicList, InputSetting
from flowline.compat.shim import missing_attribute
from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection
from flowline.connections.strong_type import CustomStrongTypeConnection

__all__ = ["AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection", "DynamicList", "InputSetting",
           "OpenAIConnection"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
