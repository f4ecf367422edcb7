"""Stand-in for ``promptflow.tools``: the promptflow-tools tools a tool file may import and call itself
(``from promptflow.tools.embedding import embedding``), run by Flowline's native implementations."""

from typing import NoReturn

from flowline.compat.shim import missing_attribute

__all__ = ["aoai_gpt4v", "common", "embedding", "openai_gpt4v", "serpapi"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
