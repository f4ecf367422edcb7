"""Connections: named endpoints and keys that LLM nodes and tools use.

Tool files annotate a parameter with one of these classes to receive the connection named by the
node's input: ``def my_tool(conn: CustomConnection)`` with ``inputs: {conn: my_connection}``.
"""

from flowline.connections.model import (
    AzureOpenAIConnection,
    Connection,
    CustomConnection,
    OpenAIConnection,
    SerpConnection,
)

__all__ = ["AzureOpenAIConnection", "Connection", "CustomConnection", "OpenAIConnection", "SerpConnection"]
