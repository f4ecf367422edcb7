"""The server factory: creates the pygls server and lists its features (composition in one place)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

from pygls.lsp.server import LanguageServer

from flowline import __version__
from flowline.lsp.documents import FlowDocuments, uri_to_path


class FlowlineServer(LanguageServer):
    """pygls's server plus the flow document cache."""

    def __init__(self) -> None:
        super().__init__("flowline", __version__)
        self.flows = FlowDocuments(lambda: self.workspace)
        self.last_outputs: dict[str, dict[str, Any]] = {}
        """Node outputs of the last run of each flow folder (for hover and completion)."""
        self.running: dict[str, asyncio.subprocess.Process] = {}
        """Runs in progress, by run id."""
        self._connections: frozenset[str] = frozenset()
        self._connections_read = float("-inf")

    def last_outputs_for(self, uri: str) -> dict[str, Any]:
        """The remembered node outputs of the flow a document belongs to."""
        return self.last_outputs.get(str(uri_to_path(uri).parent), {})

    def connection_names(self) -> frozenset[str]:
        """Names of the stored connections (for diagnostics and completion), re-read every 2 s at most."""
        from flowline.connections.store import ConnectionStore

        now = time.monotonic()
        if now - self._connections_read > 2.0:
            self._connections = frozenset(ConnectionStore().names())
            self._connections_read = now
        return self._connections


def create_server() -> FlowlineServer:
    """A server with every feature registered."""
    from flowline.lsp import code_actions, code_lens, commands, completion, diagnostics, hover, navigation

    server = FlowlineServer()
    for feature in (diagnostics, completion, hover, navigation, code_lens, code_actions, commands):
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
