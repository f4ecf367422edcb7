"""Stand-in for ``promptflow.connections``."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute
from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection, SerpConnection
from flowline.connections.strong_type import CustomStrongTypeConnection

__all__ = ["AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection", "OpenAIConnection",
           "SerpConnection"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
