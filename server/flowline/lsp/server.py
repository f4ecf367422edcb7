"""The server factory: creates the pygls server and lists its features (composition in one place)."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any

from pygls.lsp.server import LanguageServer

from flowline import __version__
from flowline.connections.store import ConnectionStore, StoreNames
from flowline.flow.package_tools import Catalog
from flowline.lsp.documents import FlowDocuments, uri_to_path

if TYPE_CHECKING:
    from flowline.lsp.runs import ChildRun


class FlowlineServer(LanguageServer):
    """pygls's server plus the flow document cache."""

    def __init__(self) -> None:
        super().__init__("flowline", __version__)
        self.flows = FlowDocuments(lambda: self.workspace, self.connection_names, self.package_tools)
        self.last_outputs: dict[str, dict[str, Any]] = {}
        """Node outputs of the last run of each flow folder (for hover and completion)."""
        self.running: list[ChildRun] = []
        """Runs in progress."""
        self._connections: StoreNames | None = None
        self._package_tools: Catalog | None = None

    def last_outputs_for(self, uri: str) -> dict[str, Any]:
        """The remembered node outputs of the flow a document belongs to."""
        return self.last_outputs.get(str(uri_to_path(uri).parent), {})

    def connection_names(self) -> frozenset[str]:
        """Names of the stored connections (for diagnostics and completion), current at every call."""
        if self._connections is None:
            self._connections = StoreNames(ConnectionStore())
        return self._connections.names()

    def package_tools(self) -> Catalog:
        """The package tools of the server's interpreter (which runs the flows), listed once by a child
        process when a flow first needs them: listing imports the packages, and no user code runs here.
        Packages installed later are seen after a restart of the server."""
        if self._package_tools is None:
            from flowline.flow.package_tools import tools_in_child

            self._package_tools = tools_in_child()
        return self._package_tools


def create_server() -> FlowlineServer:
    """A server with every feature registered."""
    from flowline.lsp import code_actions, code_lens, commands, completion, diagnostics, hover, navigation, runs

    server = FlowlineServer()
    for feature in (diagnostics, completion, hover, navigation, code_lens, code_actions, commands, runs):
        feature.register(server)
    return server


def main(log_level: str = "warning") -> None:
    """Serve LSP on stdin/stdout (`flowline lsp`); the log goes to stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("flowline").setLevel(log_level.upper())
    server = create_server()
    # Every keystroke builds a few thousand small objects; collecting the young generation less
    # often, and never scanning what start-up loaded, keeps pauses out of typing latency.
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    server.start_io()
