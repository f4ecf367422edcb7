"""Stand-in for ``promptflow.tools.embedding``."""

from __future__ import annotations

from typing import Any, NoReturn

from flowline.compat.promptflow.tools._native import run_builtin
from flowline.compat.shim import missing_attribute
from flowline.flow.builtin_tools import EMBEDDING
from flowline.tools import tool


@tool
def embedding(connection: Any, input: str, deployment_name: str = "", model: str = "text-embedding-ada-002") -> Any:
    """The embedding vector (list of floats) of ``input``: ``model`` with an OpenAI connection,
    ``deployment_name`` with an Azure OpenAI one."""
    return run_builtin(EMBEDDING, connection, {"input": input, "deployment_name": deployment_name, "model": model})


__all__ = ["embedding"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
