"""workspace/executeCommand and Flowline's own requests (DESIGN.md section 6).

- ``flowline.runFlow [uri, inputs?]`` / ``flowline.runNode [uri, node, inputs?]``: the flow runs in a
  child process (``python -m flowline flow test --events -``; user code never runs in the server);
  each event is relayed as a ``flowline/event`` notification; the answer is
  ``{run_id, status, outputs, error?}``. Node outputs are remembered for hover and completion.
- ``flowline.cancelRun [run_id]`` stops a run.
- ``flowline.editFlow [uri, edit]`` answers a ``WorkspaceEdit`` (checked against ``edit.version``; an
  added node's missing source file is created with a first version).
- ``flowline/graph {uri}`` answers nodes (with their tools' parameters), edges and spans for the
  visual editor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowline.flow.edits import EditError, apply_edit, new_files
from flowline.flow.graph import graph
from flowline.flow.spans import Span
from flowline.lsp.documents import is_flow_uri, to_range, uri_to_path
from flowline.lsp.server import FlowlineServer

log = logging.getLogger(__name__)
EVENT = "flowline/event"
GRAPH = "flowline/graph"


async def _run(ls: FlowlineServer, uri: str, node: str | None, inputs: dict[str, Any] | None) -> dict[str, Any]:
    flow_dir = uri_to_path(uri).parent
    command = [sys.executable, "-m", "flowline", "flow", "test", "--flow", str(flow_dir), "--events", "-"]
    if node:
        command += ["--node", node]
    inputs_file = None
    if inputs:
        inputs_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(inputs, inputs_file)
        inputs_file.close()
        command += ["--inputs", inputs_file.name]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE, cwd=str(flow_dir))
    result: dict[str, Any] = {"run_id": None, "status": "Failed", "outputs": None}
    remembered = ls.last_outputs.setdefault(str(flow_dir), {})
    assert process.stdout is not None and process.stderr is not None
    try:
        async for raw in process.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if event.get("type") == "run_start":
                result["run_id"] = event["run_id"]
                ls.running[event["run_id"]] = process
            elif event.get("type") == "node_end" and event.get("status") == "Completed":
                remembered[event["node"]] = event.get("output")
            elif event.get("type") == "run_end":
                result.update(status=event.get("status"), outputs=event.get("output"))
                if event.get("error"):
                    result["error"] = event["error"]
            ls.protocol.notify(EVENT, event)
        stderr = (await process.stderr.read()).decode("utf-8", errors="replace")
        code = await process.wait()
    finally:
        ls.running.pop(result["run_id"] or "", None)
        if inputs_file is not None:
            Path(inputs_file.name).unlink(missing_ok=True)
    if code < 0:
        result["status"] = "Canceled"
    elif code == 2:  # the run never started: an invalid flow or bad inputs, explained on stderr
        result["error"] = {"type": "UsageError", "message": stderr.strip().splitlines()[-1] if stderr.strip()
                           else "the flow could not run"}
    return result


def register(server: FlowlineServer) -> None:
    """Register the commands and requests."""

    @server.command("flowline.runFlow")
    async def run_flow(ls: FlowlineServer, *args: Any) -> dict[str, Any]:
        uri = str(args[0])
        return await _run(ls, uri, None, args[1] if len(args) > 1 and isinstance(args[1], dict) else None)

    @server.command("flowline.runNode")
    async def run_node(ls: FlowlineServer, *args: Any) -> dict[str, Any]:
        uri, node = str(args[0]), str(args[1])
        return await _run(ls, uri, node, args[2] if len(args) > 2 and isinstance(args[2], dict) else None)

    @server.command("flowline.cancelRun")
    def cancel_run(ls: FlowlineServer, *args: Any) -> bool:
        process = ls.running.get(str(args[0])) if args else None
        if process is None:
            return False
        process.terminate()
        return True

    @server.command("flowline.editFlow")
    def edit_flow(ls: FlowlineServer, *args: Any) -> types.WorkspaceEdit:
        uri, edit = str(args[0]), args[1]
        if not is_flow_uri(uri) or not isinstance(edit, dict):
            raise ValueError("flowline.editFlow takes [uri of a flow.dag.yaml, {kind, ...}].")
        state = ls.flows.state(uri)
        if edit.get("version") is not None and edit["version"] != state.version:
            raise ValueError(f"The document changed (version {state.version}, edit made for {edit['version']}).")
        try:
            edits = apply_edit(state.flow, state.text, state.document.root, edit)
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
        return {"version": state.version, **graph(state.flow, ls.flows.read)}
