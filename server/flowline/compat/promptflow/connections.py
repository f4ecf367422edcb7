"""Stand-in for ``promptflow.connections``."""

from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection, SerpConnection
from flowline.connections.strong_type import CustomStrongTypeConnection

__all__ = ["AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection", "OpenAIConnection",
           "SerpConnection"]
