"""textDocument/completion: references after ``${``, keys, values, tool parameters and node snippets."""

from __future__ import annotations

import logging
import time

from lsprotocol import types

from flowline.flow.spans import Span
from flowline.lsp.documents import from_position, is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer
from flowline.service.complete import complete

log = logging.getLogger(__name__)

_KINDS = {"reference": types.CompletionItemKind.Reference, "module": types.CompletionItemKind.Module,
          "variable": types.CompletionItemKind.Variable, "property": types.CompletionItemKind.Property,
          "field": types.CompletionItemKind.Field, "value": types.CompletionItemKind.Value,
          "snippet": types.CompletionItemKind.Snippet}


def register(server: FlowlineServer) -> None:
    """Register the completion provider."""

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=["{", ".", ":", " ", "-"]))
    def completion(ls: FlowlineServer, params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        if not is_flow_uri(uri):
            return None
        started = time.perf_counter()
        state = ls.flows.model(uri)
        lines = state.lines
        line, column = from_position(lines, params.position)
        items = complete(state.flow, state.text, line, column, sorted(ls.connection_names()), ls.flows.read,
                         ls.last_outputs_for(uri), ls.package_tools)
        ranges: dict[Span, types.Range] = {}  # most items replace the same word: convert its span once

        def range_of(span: Span) -> types.Range:
            if span not in ranges:
                ranges[span] = to_range(lines, span)
            return ranges[span]

        result = types.CompletionList(is_incomplete=False, items=[
            types.CompletionItem(
                label=item.label, kind=_KINDS.get(item.kind, types.CompletionItemKind.Text),
                detail=item.detail or None,
                documentation=types.MarkupContent(types.MarkupKind.Markdown, item.documentation)
                if item.documentation else None,
                text_edit=types.TextEdit(range_of(item.span), item.insert_text),
                insert_text_format=types.InsertTextFormat.Snippet if item.snippet else types.InsertTextFormat.PlainText,
                sort_text=(item.sort_text + item.label) if item.sort_text else None)
            for item in items])
        log.debug("completion %s %d:%d: %d items in %.1f ms", uri, params.position.line, params.position.character,
                  len(items), (time.perf_counter() - started) * 1000)
        return result
