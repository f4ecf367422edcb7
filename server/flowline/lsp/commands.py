"""workspace/executeCommand and Flowline's own requests (DESIGN.md section 6); the run commands are
in ``lsp/runs.py``.

- ``flowline.editFlow [uri, edit]`` answers a ``WorkspaceEdit`` (checked against ``edit.version``; an
  added node's missing source file is created with a first version, a new variant's template as a copy
  of the default variant's).
- ``flowline/graph {uri}`` answers nodes (with their tools' parameters), edges and spans for the
  visual editor.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from flowline.flow.spans import Span
from flowline.lsp.documents import is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer
from flowline.service.edits import apply_edit, new_files
from flowline.service.graph import graph
from flowline.service.yaml_edit import EditError

log = logging.getLogger(__name__)
GRAPH = "flowline/graph"


def register(server: FlowlineServer) -> None:
    """Register the commands and requests."""

    @server.command("flowline.editFlow")
    def edit_flow(ls: FlowlineServer, *args: Any) -> types.WorkspaceEdit:
        uri, edit = str(args[0]), args[1]
        if not is_flow_uri(uri) or not isinstance(edit, dict):
            raise ValueError("flowline.editFlow takes [uri of a flow.dag.yaml, {kind, ...}].")
        state = ls.flows.state(uri)
        if edit.get("version") is not None and edit["version"] != state.version:
            raise ValueError(f"The document changed (version {state.version}, edit made for {edit['version']}).")
        try:
            edits = apply_edit(state.flow, state.text, state.document.root, edit, sorted(ls.connection_names()),
                               ls.package_tools)
        except EditError as exc:
            raise ValueError(str(exc)) from exc
        changes: list[types.TextDocumentEdit | types.CreateFile] = []
        for path, text in new_files(state.flow, edit, ls.flows.read):
            new_file = types.OptionalVersionedTextDocumentIdentifier(uri=path.as_uri(), version=None)
            changes += [types.CreateFile(uri=path.as_uri(), options=types.CreateFileOptions(ignore_if_exists=True)),
                        types.TextDocumentEdit(text_document=new_file,
                                               edits=[types.TextEdit(to_range([""], Span.point(0, 0)), text)])]
        lines = state.lines
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=state.version),
            edits=[types.TextEdit(to_range(lines, span), text) for span, text in edits]))
        return types.WorkspaceEdit(document_changes=changes)

    @server.feature(GRAPH)
    def flow_graph(ls: FlowlineServer, params: Any) -> dict[str, Any]:
        uri = params.uri if hasattr(params, "uri") else params["uri"]
        state = ls.flows.model(uri)
        return {"version": state.version,
                **graph(state.flow, ls.flows.read, sorted(ls.connection_names()), ls.package_tools)}
