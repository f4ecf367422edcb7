"""Stand-in for ``promptflow.contracts.types``: annotations tool files use (``Secret`` for the secret
fields of a custom strong-typed connection, ``PromptTemplate``, ``FilePath``)."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute
from flowline.connections.strong_type import Secret


class PromptTemplate(str):
    """Annotation of a tool parameter that is a prompt template."""


class FilePath(str):
    """Annotation of a tool parameter that is a file path."""


__all__ = ["FilePath", "PromptTemplate", "Secret"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
