"""Go to definition, find references, rename (with prepareRename) and document symbols."""

from __future__ import annotations

import os
from pathlib import Path

from lsprotocol import types

from flowline.flow.spans import Span
from flowline.lsp.documents import FlowState, from_position, is_flow_uri, to_range, uri_to_path
from flowline.lsp.server import FlowlineServer
from flowline.service.navigate import Symbol, definition, prepare_rename, references, rename, symbols

_SYMBOL_KINDS = {"section": types.SymbolKind.Namespace, "input": types.SymbolKind.Variable,
                 "output": types.SymbolKind.Property, "node": types.SymbolKind.Function}


_SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", ".flowline", ".runs"}


def flow_files(roots: list[Path], limit: int = 2000) -> list[Path]:
    """flow.dag.yaml files under the workspace folders (skipping environments and state folders)."""
    found: list[Path] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _SKIP]
            found += [Path(folder) / f for f in files if f in ("flow.dag.yaml", "flow.dag.yml")]
            if len(found) >= limit:
                return found
    return found


def _state(ls: FlowlineServer, uri: str) -> FlowState | None:
    return ls.flows.model(uri) if is_flow_uri(uri) else None


def register(server: FlowlineServer) -> None:
    """Register the navigation providers."""

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: FlowlineServer, params: types.DefinitionParams) -> list[types.Location] | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None
        line, column = from_position(state.lines, params.position)
        result = []
        for location in definition(state.flow, line, column, ls.flows.read):
            target_lines = (ls.flows.read(location.path) or "").split("\n")
            result.append(types.Location(location.path.as_uri(), to_range(target_lines, location.span)))
        return result

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: FlowlineServer, params: types.ReferenceParams) -> list[types.Location] | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None
        line, column = from_position(state.lines, params.position)
        found = references(state.flow, line, column, params.context.include_declaration)
        return [types.Location(params.text_document.uri, to_range(state.lines, loc.span)) for loc in found]

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    def on_prepare_rename(ls: FlowlineServer, params: types.PrepareRenameParams) -> types.Range | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None
        line, column = from_position(state.lines, params.position)
        span = prepare_rename(state.flow, line, column)
        return to_range(state.lines, span) if span else None

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    def on_rename(ls: FlowlineServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None
        line, column = from_position(state.lines, params.position)
        edits = rename(state.flow, line, column, params.new_name)
        if not edits:
            return None
        return types.WorkspaceEdit(changes={params.text_document.uri: [
            types.TextEdit(to_range(state.lines, span), text) for span, text in edits]})

    @server.feature(types.WORKSPACE_SYMBOL)
    def on_workspace_symbols(ls: FlowlineServer, params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        from flowline.flow.build import load_flow_text

        query = params.query.lower()
        found: list[types.WorkspaceSymbol] = []
        for path in flow_files([uri_to_path(f.uri) for f in ls.workspace.folders.values()]):
            text = ls.flows.read(path)
            if text is None:
                continue
            flow, _ = load_flow_text(text, path)
            lines = text.split("\n")
            for symbol in symbols(flow):
                for child in symbol.children:
                    if query in child.name.lower():
                        found.append(types.WorkspaceSymbol(
                            name=child.name, kind=_SYMBOL_KINDS[child.kind], container_name=path.parent.name,
                            location=types.Location(path.as_uri(), to_range(lines, child.selection))))
        return found

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(ls: FlowlineServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None

        def whole(span: Span) -> types.Range:
            # A YAML item's span ends at column 0 of the next item's line; VS Code counts a range's end
            # position in, so the breadcrumb would name this item with the cursor on the next one's start.
            if span.end_col == 0 and span.end_line > span.start_line:
                last = span.end_line - 1
                span = Span(span.start_line, span.start_col, last, len(state.lines[last]) if last < len(state.lines)
                            else 0)
            return to_range(state.lines, span)

        def convert(symbol: Symbol) -> types.DocumentSymbol:
            return types.DocumentSymbol(
                name=symbol.name, detail=symbol.detail, kind=_SYMBOL_KINDS[symbol.kind],
                range=whole(symbol.span), selection_range=to_range(state.lines, symbol.selection),
                children=[convert(child) for child in symbol.children])

        return [convert(symbol) for symbol in symbols(state.flow)]
