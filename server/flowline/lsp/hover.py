"""textDocument/hover: what a reference points to, a node's tool signature, a key's meaning."""

from __future__ import annotations

from lsprotocol import types

from flowline.lsp.documents import from_position, is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer
from flowline.service.navigate import hover


def register(server: FlowlineServer) -> None:
    """Register the hover provider."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: FlowlineServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        if not is_flow_uri(uri):
            return None
        state = ls.flows.model(uri)
        line, column = from_position(state.lines, params.position)
        found = hover(state.flow, state.text, line, column, ls.flows.read, ls.last_outputs_for(uri), ls.package_tools)
        if found is None:
            return None
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, found.markdown),
                           to_range(state.lines, found.span))
