"""textDocument/codeLens: "Run flow" / "Debug flow" above `nodes:`, "Run node" / "Debug node" above
each node, "Open visual editor" on top, "Chat" above `inputs:` of a chat flow (``chat/roles.py``).
Command ids and arguments follow DESIGN.md section 6.

Lenses come from the document's current parse, never from the last one that parsed cleanly (which
completion keeps while the text is broken): its spans and node names belong to an older text, so its
lenses would stand on other lines than their nodes and name nodes that are gone.
"""

from __future__ import annotations

from lsprotocol import types

from flowline.chat.roles import chat_roles
from flowline.flow.parse import YMap
from flowline.flow.spans import Span
from flowline.lsp.documents import is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer


def register(server: FlowlineServer) -> None:
    """Register the code lens provider."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def on_code_lens(ls: FlowlineServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
        uri = params.text_document.uri
        if not is_flow_uri(uri):
            return None
        state = ls.flows.state(uri)
        lines = state.lines

        def lens(span: Span, title: str, command: str, *arguments: str) -> types.CodeLens:
            return types.CodeLens(range=to_range(lines, span),
                                  command=types.Command(title=title, command=command, arguments=[uri, *arguments]))

        lenses = [lens(Span(0, 0, 0, 0), "Open visual editor", "flowline.openVisualEditor")]
        root = state.document.root
        inputs_key = root.key("inputs") if isinstance(root, YMap) else None
        if inputs_key is not None and not isinstance(chat_roles(state.flow), str):
            lenses.append(lens(inputs_key.span, "Chat", "flowline.openChat"))
        nodes_key = root.key("nodes") if isinstance(root, YMap) else None
        if nodes_key is not None:
            lenses += [lens(nodes_key.span, "▶ Run flow", "flowline.runFlow"),
                       lens(nodes_key.span, "Debug flow", "flowline.debugFlow")]
        for node in state.flow.nodes:
            lenses += [lens(node.name_span, "▶ Run node", "flowline.runNode", node.name),
                       lens(node.name_span, "Debug node", "flowline.debugNode", node.name)]
        return lenses
