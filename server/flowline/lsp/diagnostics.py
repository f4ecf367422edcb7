"""textDocument/publishDiagnostics: every problem of an open flow, as the user types.

A change after a quiet moment is validated at once; changes that follow within 50 ms of a pass
wait until 50 ms after the last one, so a typing burst costs one more pass, not one per key.
Results are cached per document version and set of stored connections; every open flow is checked
again when a tool or template file changes, and when a connection is created or deleted (the store
lives outside the workspace, so the server looks at it itself, once a second).
"""

from __future__ import annotations

import asyncio
import logging
import time

from lsprotocol import types

from flowline.flow.problems import Severity
from flowline.lsp.documents import FlowState, is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.05
CONNECTIONS_POLL_S = 1.0
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information}


def to_diagnostics(state: FlowState) -> list[types.Diagnostic]:
    """The state's problems as LSP diagnostics."""
    lines = state.lines
    return [types.Diagnostic(range=to_range(lines, p.span), message=p.message, severity=_SEVERITY[p.severity],
                             code=p.code, source="flowline")
            for p in state.problems if p.file is None]


def publish(server: FlowlineServer, uri: str, refresh: bool = False, since: float | None = None) -> None:
    """Validate one flow document and publish its diagnostics (``since``: when the change arrived)."""
    started = time.perf_counter()
    try:
        state = server.flows.state(uri, refresh=refresh)
    except Exception:  # never let one document stop the server
        log.exception("cannot validate %s", uri)
        return
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=to_diagnostics(state), version=state.version))
    done = time.perf_counter()
    log.debug("diagnostics %s v%s: %d problems, %.1f ms after the change (%.1f ms validating)", uri,
              state.version, len(state.problems), (done - (since or started)) * 1000, (done - started) * 1000)


def register(server: FlowlineServer) -> None:
    """Wire the document events to validation."""
    pending: dict[str, asyncio.Handle] = {}
    last_pass: dict[str, float] = {}
    watching: list[asyncio.Task[None]] = []  # keeps the watcher task referenced while the server runs

    def schedule(uri: str, refresh: bool = False) -> None:
        since = time.perf_counter()

        def run() -> None:
            pending.pop(uri, None)
            last_pass[uri] = time.monotonic()
            publish(server, uri, refresh, since)

        loop = asyncio.get_running_loop()
        if uri in pending:
            pending[uri].cancel()
        elif time.monotonic() - last_pass.get(uri, 0.0) >= DEBOUNCE_S:
            pending[uri] = loop.call_soon(run)
            return
        pending[uri] = loop.call_later(DEBOUNCE_S, run)

    def others_changed(uri: str) -> None:
        if uri.endswith((".py", ".jinja2", ".j2")):
            for flow_uri in server.flows.open_flows():
                schedule(flow_uri, refresh=True)

    async def watch_connections() -> None:
        known = server.connection_names()
        while True:
            await asyncio.sleep(CONNECTIONS_POLL_S)
            current = server.connection_names()
            if current != known:
                known = current
                for flow_uri in server.flows.open_flows():
                    schedule(flow_uri)

    @server.feature(types.INITIALIZED)
    def initialized(ls: FlowlineServer, params: types.InitializedParams) -> None:
        watching.append(asyncio.get_running_loop().create_task(watch_connections()))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FlowlineServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_flow_uri(uri):
            publish(ls, uri)
        else:
            others_changed(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FlowlineServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_flow_uri(uri):
            schedule(uri)
        else:
            others_changed(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: FlowlineServer, params: types.DidSaveTextDocumentParams) -> None:
        others_changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FlowlineServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_flow_uri(uri):
            ls.flows.close(uri)
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        else:
            others_changed(uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: FlowlineServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            others_changed(change.uri)
