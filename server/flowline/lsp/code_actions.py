"""textDocument/codeAction: quick fixes for the flow's diagnostics (see service/fixes.py)."""

from __future__ import annotations

from lsprotocol import types

from flowline.lsp.documents import from_position, is_flow_uri, to_range
from flowline.lsp.server import FlowlineServer
from flowline.service.fixes import actions_for


def register(server: FlowlineServer) -> None:
    """Register the code action provider."""

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def on_code_action(ls: FlowlineServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        if not is_flow_uri(uri):
            return None
        state = ls.flows.state(uri)
        start = from_position(state.lines, params.range.start)
        end = from_position(state.lines, params.range.end)
        result: list[types.CodeAction] = []
        for problem in state.problems:
            if (problem.span.end_line, problem.span.end_col) < start or \
                    (problem.span.start_line, problem.span.start_col) > end:
                continue
            for action in actions_for(state.flow, state.document, problem, ls.flows.read):
                changes: list[types.TextDocumentEdit | types.CreateFile] = [
                    types.CreateFile(uri=path.as_uri(), options=types.CreateFileOptions(ignore_if_exists=True))
                    for path in action.creates]
                for edit in action.edits:
                    lines = (ls.flows.read(edit.path) or "").split("\n") if edit.path not in action.creates else [""]
                    changes.append(types.TextDocumentEdit(
                        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=edit.path.as_uri(),
                                                                                     version=None),
                        edits=[types.TextEdit(to_range(lines, edit.span), edit.new_text)]))
                command = None if action.command is None else types.Command(
                    title=action.title, command=action.command.id, arguments=list(action.command.arguments))
                result.append(types.CodeAction(
                    title=action.title, kind=types.CodeActionKind.QuickFix, is_preferred=len(result) == 0,
                    diagnostics=[d for d in params.context.diagnostics if d.code == problem.code],
                    edit=types.WorkspaceEdit(document_changes=changes) if changes else None, command=command))
        return result
