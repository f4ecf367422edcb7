"""Stand-in for ``promptflow.tools.serpapi``."""

from __future__ import annotations

from typing import Any, NoReturn

from flowline.compat.promptflow.tools._native import run_builtin
from flowline.compat.shim import missing_attribute
from flowline.flow.builtin_tools import SERPAPI
from flowline.tools import ToolProvider, tool


class SerpAPI(ToolProvider):
    """SerpApi search with a connection holding the secret ``api_key``."""

    def __init__(self, connection: Any) -> None:
        super().__init__()
        self.connection = connection

    @tool
    def search(self, query: str, location: str | None = None, safe: str = "off", num: int = 10,
               engine: str = "google") -> Any:
        """SerpApi's JSON answer for ``query``."""
        return run_builtin(SERPAPI, self.connection, {"query": query, "location": location, "safe": str(safe),
                                                      "num": num, "engine": str(engine)})


@tool
def search(connection: Any, query: str, location: str | None = None, safe: str = "off", num: int = 10,
           engine: str = "google") -> Any:
    """SerpApi's JSON answer for ``query``."""
    return SerpAPI(connection).search(query, location, safe, num, engine)


__all__ = ["SerpAPI", "search"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
