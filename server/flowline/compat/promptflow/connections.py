"""Stand-in for ``promptflow.connections``."""

from flowline.connections import AzureOpenAIConnection, CustomConnection, OpenAIConnection

__all__ = ["AzureOpenAIConnection", "CustomConnection", "OpenAIConnection"]
