"""The language server end to end: the real `flowline lsp` process over stdio, driven by pytest-lsp
with VS Code's client capabilities. Cursor positions are marked in the texts with `|`."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TOOL = '''
from flowline import tool


@tool
def shout(text: str, times: int = 1) -> str:
    """Repeat the text in capitals."""
    return (text.upper() + " ") * times
'''

FLOW = """
inputs:
  question:
    type: string
    default: hi
    description: What the user asks.
outputs:
  answer:
    reference: ${loud.output}
nodes:
- name: greet
  type: prompt
  source:
    type: code
    path: greet.jinja2
  inputs:
    name: ${inputs.question}
- name: loud
  type: python
  source:
    type: code
    path: shout.py
  inputs:
    text: ${greet.output}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "flowline", "lsp"]))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def marked(text: str) -> tuple[str, types.Position]:
    """Text without its `|` marker, and the marker's position."""
    text = textwrap.dedent(text).lstrip("\n")
    index = text.index("|")
    line = text.count("\n", 0, index)
    return text.replace("|", "", 1), types.Position(line, index - (text.rfind("\n", 0, index) + 1))


def flow_folder(tmp_path: Path, flow: str = FLOW) -> Path:
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "shout.py").write_text(TOOL)
    (folder / "greet.jinja2").write_text("Hello {{ name }}!\n")
    (folder / "flow.dag.yaml").write_text(textwrap.dedent(flow).lstrip("\n"))
    return folder


async def open_flow(client: LanguageClient, folder: Path, text: str | None = None) -> str:
    path = folder / "flow.dag.yaml"
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "yaml", 1, text if text is not None else path.read_text())))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def change(client: LanguageClient, uri: str, version: int, text: str) -> list[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))
    while True:
        published = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if published.uri == uri and published.version == version:
            return list(published.diagnostics)


async def test_valid_flow_has_no_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_flow(client, flow_folder(tmp_path))
    assert list(client.diagnostics[uri]) == []


async def test_typo_in_reference_is_flagged_at_the_name(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    broken = (folder / "flow.dag.yaml").read_text().replace("${greet.output}", "${gret.output}")
    diagnostics = await change(client, uri, 2, broken)
    line = broken.split("\n").index("    text: ${gret.output}")
    assert diagnostics == [types.Diagnostic(
        range=types.Range(types.Position(line, 12), types.Position(line, 16)),
        message="Input 'text' of node 'loud' references unknown node 'gret'. Did you mean 'greet'?",
        severity=types.DiagnosticSeverity.Error, code="unknown-node", source="flowline")]


async def test_broken_yaml_gives_a_syntax_diagnostic_and_the_server_keeps_answering(
        client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    diagnostics = await change(client, uri, 2, "nodes:\n- name: [a\n  type: python\n")
    assert "yaml-syntax" in [d.code for d in diagnostics]
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(0, 1)))
    assert result is not None and "steps of the flow" in result.contents.value


async def test_tool_file_change_revalidates(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    tool_uri = (folder / "shout.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(tool_uri, "python", 1, TOOL.replace("text: str", "words: str"))))
    while True:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if client.diagnostics.get(uri):
            break
    codes = sorted(d.code for d in client.diagnostics[uri])
    assert codes == ["missing-parameter", "unknown-parameter"]


async def test_completion_after_dollar_brace(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("text: ${greet.output}", "text: ${|"))
    folder = flow_folder(tmp_path, text)
    uri = await open_flow(client, folder, text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None
    labels = [item.label for item in result.items]
    assert labels == ["inputs", "greet"]
    first = result.items[0]
    assert first.text_edit == types.TextEdit(types.Range(position, position), "inputs")


async def test_completion_of_flow_inputs_and_output(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("text: ${greet.output}", "text: ${inputs.q|"))
    uri = await open_flow(client, flow_folder(tmp_path, text), text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None and [(i.label, i.detail) for i in result.items] == [("question", "string")]
    start = types.Position(position.line, position.character - 1)
    assert result.items[0].text_edit == types.TextEdit(types.Range(start, position), "question")
    text, position = marked(FLOW.replace("text: ${greet.output}", "text: ${greet.|"))
    (tmp_path / "flow" / "flow.dag.yaml").write_text(text)
    await change(client, uri, 2, text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None and [i.label for i in result.items] == ["output"]


async def test_completion_of_node_input_keys_and_types(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("    text: ${greet.output}\n", "    text: ${greet.output}\n    |\n"))
    uri = await open_flow(client, flow_folder(tmp_path, text), text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None and [(i.label, i.detail) for i in result.items] == [("times", "int = 1")]
    text, position = marked(FLOW.replace("  type: python", "  type: |"))
    await change(client, uri, 2, text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None and [i.label for i in result.items] == ["python", "prompt", "llm", "custom_llm"]


async def test_hover_on_reference_and_node(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    text = (folder / "flow.dag.yaml").read_text()
    line = text.split("\n").index("    reference: ${loud.output}")
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, 20)))
    assert result is not None
    assert "**loud** — python node" in result.contents.value
    assert "def shout(text: str, times: int = 1) -> str" in result.contents.value
    assert "Repeat the text in capitals." in result.contents.value
    line = text.split("\n").index("    name: ${inputs.question}")
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, 22)))
    assert result is not None
    assert result.contents.value == "**inputs.question**: `string` = `'hi'`\n\nWhat the user asks."


async def test_definition_references_rename_symbols(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    ref_line = lines.index("    text: ${greet.output}")
    name_line = lines.index("- name: greet")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(uri), types.Position(ref_line, 14)))
    assert found == [types.Location(uri, types.Range(types.Position(name_line, 8), types.Position(name_line, 13)))]
    tool_line = lines.index("    path: shout.py")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(uri), types.Position(tool_line, 12)))
    assert found is not None and found[0].uri == (folder / "shout.py").as_uri()
    loud_line = lines.index("- name: loud")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(uri), types.Position(loud_line, 9)))
    assert found == [types.Location((folder / "shout.py").as_uri(),
                                    types.Range(types.Position(5, 0), types.Position(5, 9)))]
    refs = await client.text_document_references_async(types.ReferenceParams(
        context=types.ReferenceContext(include_declaration=True), text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(name_line, 9)))
    assert refs is not None and sorted(r.range.start.line for r in refs) == [name_line, ref_line]
    prepared = await client.text_document_prepare_rename_async(types.PrepareRenameParams(
        types.TextDocumentIdentifier(uri), types.Position(name_line, 9)))
    assert prepared == types.Range(types.Position(name_line, 8), types.Position(name_line, 13))
    refused = await client.text_document_prepare_rename_async(types.PrepareRenameParams(
        types.TextDocumentIdentifier(uri), types.Position(lines.index("  type: prompt"), 3)))
    assert refused is None
    edit = await client.text_document_rename_async(types.RenameParams(
        types.TextDocumentIdentifier(uri), types.Position(name_line, 9), "welcome"))
    assert edit is not None and edit.changes is not None
    assert sorted((e.range.start.line, e.range.start.character, e.new_text) for e in edit.changes[uri]) == [
        (name_line, 8, "welcome"), (ref_line, 12, "welcome")]
    outline = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(uri)))
    assert outline is not None
    assert [(s.name, [c.name for c in s.children or []]) for s in outline] == [   # type: ignore[union-attr]
        ("inputs", ["question"]), ("outputs", ["answer"]), ("nodes", ["greet", "loud"])]
    # The breadcrumb follows the ranges: with the cursor at the start of '- name: loud', that is loud's.
    greet, loud = outline[2].children or []  # type: ignore[union-attr]
    assert greet.range.end.line < loud.range.start.line == lines.index("- name: loud")


async def test_code_lenses(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
    assert lenses is not None
    commands = [(lens.range.start.line, lens.command.command, list(lens.command.arguments or []))
                for lens in lenses if lens.command is not None]
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    assert commands == [
        (0, "flowline.openVisualEditor", [uri]),
        (lines.index("nodes:"), "flowline.runFlow", [uri]), (lines.index("nodes:"), "flowline.debugFlow", [uri]),
        (lines.index("- name: greet"), "flowline.runNode", [uri, "greet"]),
        (lines.index("- name: greet"), "flowline.debugNode", [uri, "greet"]),
        (lines.index("- name: loud"), "flowline.runNode", [uri, "loud"]),
        (lines.index("- name: loud"), "flowline.debugNode", [uri, "loud"]),
    ]


async def test_tool_with_top_level_raise_is_read_not_imported(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    (folder / "shout.py").write_text('raise SystemExit("imported!")\n' + TOOL)
    uri = await open_flow(client, folder)
    assert list(client.diagnostics[uri]) == []
    text = (folder / "flow.dag.yaml").read_text()
    line = text.split("\n").index("    reference: ${loud.output}")
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, 20)))
    assert result is not None and "def shout(text: str, times: int = 1)" in result.contents.value


@pytest.mark.parametrize("prefix", ["é", "😀"])
async def test_positions_are_utf16(client: LanguageClient, tmp_path: Path, prefix: str) -> None:
    folder = flow_folder(tmp_path)
    text = (folder / "flow.dag.yaml").read_text().replace("    text: ${greet.output}",
                                                          f"    text: ${{gret.output}}  # {prefix}")
    text = text.replace("- name: loud", f"- name: loud  # {prefix}{prefix}")
    uri = await open_flow(client, folder, text)
    diagnostic = client.diagnostics[uri][0]
    assert diagnostic.code == "unknown-node" and diagnostic.range.start.character == 12


async def actions(client: LanguageClient, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def edits_of(action: types.CodeAction) -> list[tuple[str, int, int, str]]:
    assert action.edit is not None and action.edit.document_changes is not None
    return [(change.text_document.uri, edit.range.start.line, edit.range.start.character, edit.new_text)
            for change in action.edit.document_changes if isinstance(change, types.TextDocumentEdit)
            for edit in change.edits if isinstance(edit, types.TextEdit)]


async def test_quick_fixes(client: LanguageClient, tmp_path: Path) -> None:
    text = FLOW.replace("${greet.output}", "${gret.output}").replace("${inputs.question}", "${inputs.topic}")
    text = text.replace("path: shout.py", "path: missing_tool.py")
    folder = flow_folder(tmp_path, text)
    uri = await open_flow(client, folder)
    by_code = {d.code: d for d in client.diagnostics[uri]}
    rename = await actions(client, uri, by_code["unknown-node"])
    assert rename[0].title == "Change to 'greet'"
    line = by_code["unknown-node"].range.start.line
    assert edits_of(rename[0]) == [(uri, line, 12, "greet")]
    add_input = await actions(client, uri, by_code["unknown-input"])
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    assert [a.title for a in add_input] == ["Add flow input 'topic'"]
    assert edits_of(add_input[0]) == [(uri, lines.index("outputs:"), 0, "  topic:\n    type: string\n")]
    create = await actions(client, uri, by_code["source-not-found"])
    assert create[0].title == "Create missing_tool.py"
    assert create[0].edit is not None and create[0].edit.document_changes is not None
    assert isinstance(create[0].edit.document_changes[0], types.CreateFile)
    stub = edits_of(create[0])[0][3]
    assert "@tool\ndef loud(text: str) -> str:" in stub


async def test_quick_fix_adds_a_missing_required_input(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path, FLOW.replace("    text: ${greet.output}\n", "    times: 2\n"))
    uri = await open_flow(client, folder)
    missing = next(d for d in client.diagnostics[uri] if d.code == "missing-parameter")
    fixes = await actions(client, uri, missing)
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    assert [a.title for a in fixes] == ["Add input 'text' to node 'loud'"]
    assert edits_of(fixes[0]) == [(uri, lines.index("    times: 2") + 1, 0, "    text: \n")]


def plain(value: object) -> object:
    """pygls hands unknown JSON to the client as named tuples; turn them back into dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def test_run_flow_and_node_stream_events_and_remember_outputs(client: LanguageClient, tmp_path: Path) -> None:
    events: list[dict] = []

    @client.feature("flowline/event")
    def on_event(ls: object, params: object) -> None:
        events.append(plain(params))  # type: ignore[arg-type]

    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    result = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.runFlow", arguments=[uri, {"question": "you"}])))
    assert result["status"] == "Completed" and result["outputs"] == {"answer": "HELLO YOU!\n "}
    assert result["run_id"].startswith("flow_")
    kinds = [(e["type"], e.get("node")) for e in events]
    assert kinds == [("run_start", None), ("node_start", "greet"), ("node_end", "greet"),
                     ("node_start", "loud"), ("node_end", "loud"), ("run_end", None)]
    text = (folder / "flow.dag.yaml").read_text()
    line = text.split("\n").index("    text: ${greet.output}")
    hovered = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, 14)))
    assert hovered is not None and '**Last run:**\n```json\n"Hello you!\\n"\n```' in hovered.contents.value
    node = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.runNode", arguments=[uri, "loud", {"greet.output": "hey"}])))
    assert node["status"] == "Completed" and node["outputs"] == "HEY "
    broken = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.runNode", arguments=[uri, "nope"])))
    assert broken["status"] == "Failed" and "no node 'nope'" in broken["error"]["message"]


async def test_cancel_run(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    (folder / "shout.py").write_text(TOOL.replace('    """Repeat the text in capitals."""',
                                                  '    """Repeat the text in capitals."""\n'
                                                  '    import time\n    time.sleep(30)'))
    uri = await open_flow(client, folder)
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @client.feature("flowline/event")
    def on_event(ls: object, params: object) -> None:
        event = plain(params)
        assert isinstance(event, dict)
        if event["type"] == "node_start" and event["node"] == "loud" and not started.done():
            started.set_result(event["run_id"])

    running = asyncio.ensure_future(client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.runFlow", arguments=[uri])))
    run_id = await asyncio.wait_for(started, 30)
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.cancelRun", arguments=[run_id])) is True
    result = plain(await asyncio.wait_for(running, 30))
    assert result["status"] == "Canceled"


async def test_graph_and_edit_flow(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    shape = plain(await client.protocol.send_request_async("flowline/graph", {"uri": uri}))
    assert isinstance(shape, dict)
    assert [n["name"] for n in shape["nodes"]] == ["greet", "loud"]
    edges = [(e["source"], e["target"], e["port"]) for e in shape["edges"]]
    assert edges == [("inputs.question", "greet", "name"), ("greet", "loud", "text"),
                     ("loud", "outputs.answer", "reference")]
    assert [n["parameters"] for n in shape["nodes"]] == [
        [{"name": "name", "annotation": None, "default": None, "required": True}],
        [{"name": "text", "annotation": "str", "default": None, "required": True},
         {"name": "times", "annotation": "int", "default": "1", "required": False}]]
    edit = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.editFlow", arguments=[uri, {"kind": "setInput", "node": "loud", "input": "times",
                                                      "value": 3, "version": 1}])))
    assert isinstance(edit, dict)
    changes = edit["documentChanges"]
    text_edits = changes[0]["edits"]
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    assert text_edits == [{"range": {"start": {"line": lines.index("    text: ${greet.output}") + 1, "character": 0},
                                     "end": {"line": lines.index("    text: ${greet.output}") + 1, "character": 0}},
                           "newText": "    times: 3\n"}]
    with pytest.raises(Exception, match="document changed"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="flowline.editFlow", arguments=[uri, {"kind": "removeNode", "name": "greet", "version": 7}]))
    added = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.editFlow", arguments=[uri, {"kind": "addNode", "name": "tidy", "version": 1}])))
    assert isinstance(added, dict)
    create, tool, flow = added["documentChanges"]
    assert create == {"kind": "create", "uri": (folder / "tidy.py").as_uri(), "options": {"ignoreIfExists": True}}
    assert tool["textDocument"]["uri"] == (folder / "tidy.py").as_uri()
    assert tool["edits"][0]["newText"].startswith("from flowline import tool\n\n\n@tool\ndef tidy(text: str = \"\")")
    assert flow["edits"][0]["newText"].startswith("- name: tidy\n  type: python\n")
    reused = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.editFlow", arguments=[uri, {"kind": "addNode", "name": "again", "path": "shout.py"}])))
    assert isinstance(reused, dict) and len(reused["documentChanges"]) == 1  # an existing file is left alone


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "flowline", "lsp"]))
async def samples_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    from conftest import SAMPLES

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(SAMPLES.as_uri(), "samples")]))
    yield
    await lsp_client.shutdown_session()


async def test_workspace_symbols_span_every_flow(samples_client: LanguageClient) -> None:
    from conftest import SAMPLES

    client = samples_client  # type: ignore[assignment]
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="classif"))  # type: ignore[attr-defined]
    assert found is not None
    names = sorted((s.name, s.container_name) for s in found)
    assert ("classify", "conditional") in names and ("classify_with_llm", "web-classification") in names
    target = next(s for s in found if s.name == "classify" and s.container_name == "conditional")
    assert target.location.uri == (SAMPLES / "conditional" / "flow.dag.yaml").as_uri()


async def complete_at(client: LanguageClient, uri: str, position: types.Position) -> list[str]:
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    return [item.label for item in (result.items if isinstance(result, types.CompletionList) else result or [])]


async def test_value_key_and_output_field_completions(client: LanguageClient, tmp_path: Path) -> None:
    from conftest import create_connection

    create_connection(tmp_path, "name: local\ntype: open_ai\napi_key: k\nbase_url: http://127.0.0.1:9/v1\n")
    typed_tool = TOOL.replace("from flowline import tool",
                              "from typing import TypedDict\n\nfrom flowline import tool\n\n\n"
                              "class Loud(TypedDict):\n    text: str\n    count: int")
    typed_tool = typed_tool.replace("-> str:", "-> Loud:")
    folder = flow_folder(tmp_path)
    (folder / "shout.py").write_text(typed_tool)
    base = (folder / "flow.dag.yaml").read_text()
    uri = await open_flow(client, folder)
    version = 1
    for edit, expected in (
            (base.replace("reference: ${loud.output}", "reference: ${loud.output.|"), ["text", "count"]),
            (base.replace("  type: prompt\n", "  type: llm\n  connection: |\n"), ["local"]),
            (base.replace("  type: prompt\n", "  type: llm\n  api: |\n"), ["chat", "completion"]),
            (base.replace("    path: shout.py", "    path: |"), ["greet.jinja2", "shout.py"]),
    ):
        text, position = marked(edit)
        version += 1
        await change(client, uri, version, text)
        assert await complete_at(client, uri, position) == expected, edit
    text, position = marked(base + "|")
    version += 1
    await change(client, uri, version, text)
    assert [label for label in await complete_at(client, uri, position) if label.startswith("new ")] == [
        "new python node", "new prompt node", "new llm node"]
    node_keys = base.replace("  type: python\n", "  type: python\n  |\n")
    text, position = marked(node_keys)
    version += 1
    await change(client, uri, version, text)
    labels = await complete_at(client, uri, position)
    assert "activate" in labels and "aggregation" in labels and "type" not in labels and "source" not in labels


GRAPH_FLOW = """
inputs:
  question:
    type: string
outputs:
  answer:
    reference: ${a.output}
nodes:
- name: a
  type: python
  source:
    type: code
    path: shout.py
  inputs:
    text: ${b.output}
- name: b
  type: python
  source:
    type: code
    path: shout.py
  inputs:
    text: ${a.output}
  colour: red
"""


async def test_schema_and_cycle_diagnostics_stand_at_the_key_and_on_each_node(client: LanguageClient,
                                                                              tmp_path: Path) -> None:
    folder = flow_folder(tmp_path, GRAPH_FLOW)
    uri = await open_flow(client, folder)
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    a, b, colour = lines.index("- name: a"), lines.index("- name: b"), lines.index("  colour: red")

    def at(line: int, start: int, end: int, message: str, code: str) -> types.Diagnostic:
        return types.Diagnostic(range=types.Range(types.Position(line, start), types.Position(line, end)),
                                message=message, severity=types.DiagnosticSeverity.Error, code=code,
                                source="flowline")

    assert list(client.diagnostics[uri]) == [
        at(a, 8, 9, "Node 'a' is on a dependency cycle: a -> b -> a.", "cycle"),
        at(b, 8, 9, "Node 'b' is on a dependency cycle: a -> b -> a.", "cycle"),
        at(colour, 2, 8, "Unknown key 'colour' in nodes.1.", "schema-unknown-key"),
    ]


AGGREGATION_FLOW = """
inputs:
  question:
    type: string
outputs:
  answer:
    reference: ${c.output}
nodes:
- name: a
  type: python
  source: {type: code, path: shout.py}
  inputs: {text: '${inputs.question}'}
- name: b
  type: python
  source: {type: code, path: shout.py}
  inputs: {text: '${a.output}'}
- name: c
  type: python
  source: {type: code, path: shout.py}
  inputs: {text: '${b.output}'}
- name: total
  type: python
  source: {type: code, path: shout.py}
  aggregation: true
  inputs: {text: '${c.output}'}
"""


async def test_reference_completion_leaves_out_cycles_and_aggregation_nodes(client: LanguageClient,
                                                                           tmp_path: Path) -> None:
    text, position = marked(AGGREGATION_FLOW.replace("{text: '${a.output}'}", "{text: '${|'}"))
    uri = await open_flow(client, flow_folder(tmp_path, text), text)
    assert await complete_at(client, uri, position) == ["inputs", "a"]
    text, position = marked(AGGREGATION_FLOW.replace("{text: '${c.output}'}", "{text: '${|'}"))
    await change(client, uri, 2, text)
    assert await complete_at(client, uri, position) == ["inputs", "a", "b", "c"]


async def test_broken_yaml_keeps_the_last_good_model_for_completion(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    text, position = marked(FLOW.replace("    default: hi", "    default: [hi").replace(
        "text: ${greet.output}", "text: ${|"))
    diagnostics = await change(client, uri, 2, text)
    assert [d.code for d in diagnostics] == ["yaml-syntax"]
    assert await complete_at(client, uri, position) == ["inputs", "greet"]


async def test_hover_on_an_input_key_shows_the_parameter(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("    text: ${greet.output}\n", "    text: ${greet.output}\n    ti|mes: 2\n"))
    uri = await open_flow(client, flow_folder(tmp_path, text), text)
    result = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
    assert result is not None and result.range == types.Range(types.Position(position.line, 4),
                                                              types.Position(position.line, 9))
    assert result.contents.value == "Parameter of `shout`: `times: int` = `1`"


async def test_rename_a_flow_input_everywhere(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("name: ${inputs.question}", "name: ${inputs.ques|tion}"))
    uri = await open_flow(client, flow_folder(tmp_path, text), text)
    lines = text.split("\n")
    edit = await client.text_document_rename_async(types.RenameParams(
        types.TextDocumentIdentifier(uri), position, "topic"))
    assert edit is not None and edit.changes is not None
    assert sorted((e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
                  for e in edit.changes[uri]) == [(lines.index("  question:"), 2, 10, "topic"),
                                                  (position.line, 19, 27, "topic")]


async def test_quick_fix_for_a_misspelled_type(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path, FLOW.replace("  type: python", "  type: pyhton"))
    uri = await open_flow(client, folder)
    wrong = next(d for d in client.diagnostics[uri] if d.range.start.character == 8 and "pyhton" in d.message)
    fixes = await actions(client, uri, wrong)
    line = (folder / "flow.dag.yaml").read_text().split("\n").index("  type: pyhton")
    assert [a.title for a in fixes][:1] == ["Change to 'python'"]
    assert edits_of(fixes[0]) == [(uri, line, 8, "python")]


async def test_output_keys_of_the_last_run_are_completed(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    (folder / "info.py").write_text("from flowline import tool\n\n\n@tool\ndef info(text: str) -> dict:\n"
                                    "    return {'size': len(text), 'upper': text.upper()}\n")
    flow = FLOW.replace("    reference: ${loud.output}", "    reference: ${info.output}") + (
        "- name: info\n  type: python\n  source:\n    type: code\n    path: info.py\n  inputs:\n"
        "    text: ${loud.output}\n")
    (folder / "flow.dag.yaml").write_text(textwrap.dedent(flow).lstrip("\n"))
    uri = await open_flow(client, folder)
    result = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.runFlow", arguments=[uri, {"question": "you"}])))
    assert result["status"] == "Completed"
    text, position = marked((folder / "flow.dag.yaml").read_text().replace("${info.output}", "${info.output.|"))
    await change(client, uri, 2, text)
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None
    assert [(i.label, i.detail) for i in result.items] == [("size", "last run: int"), ("upper", "last run: str")]


async def test_hover_on_llm_inputs_and_on_a_node_with_variants(client: LanguageClient, tmp_path: Path) -> None:
    text = ("inputs:\n  question: {type: string, default: hi}\noutputs:\n  answer: {reference: '${ask.output}'}\n"
            "nodes:\n- name: ask\n  use_variants: true\nnode_variants:\n  ask:\n    default_variant_id: v0\n"
            "    variants:\n      v0:\n        node:\n          type: llm\n"
            "          source: {type: code, path: p.jinja2}\n          connection: c\n          api: chat\n"
            "          inputs:\n            deployment_name: m\n            max_tokens: 9\n"
            "            question: ${inputs.question}\n"
            "      v1:\n        node:\n          type: llm\n          source: {type: code, path: p.jinja2}\n"
            "          connection: c\n          api: completion\n          inputs: {deployment_name: m, question: x}\n")
    folder = flow_folder(tmp_path, text)
    (folder / "p.jinja2").write_text("user:\n{{ question }}\n")
    uri = await open_flow(client, folder, text)
    lines = text.split("\n")

    async def hover_at(line_text: str, word: str) -> str:
        line = lines.index(line_text)
        position = types.Position(line, line_text.index(word) + 1)
        result = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
        assert result is not None, line_text
        return str(result.contents.value)

    reference = await hover_at("  answer: {reference: '${ask.output}'}", "ask")
    assert "None" not in reference
    assert "**ask** — node with variants: `v0` (llm), `v1` (llm); the default is `v0`." in reference
    max_tokens = await hover_at("            max_tokens: 9", "max_tokens")
    assert max_tokens.startswith("**max_tokens**: `int` — LLM parameter. The most tokens the answer may have")
    variable = await hover_at("            question: ${inputs.question}", "question")
    assert variable == "**question** — a variable of the prompt template `p.jinja2`."



async def published_for(client: LanguageClient, uri: str, version: int | None = None) -> types.PublishDiagnosticsParams:
    """The next diagnostics published for ``uri`` (at ``version`` when given); fails after 30 s."""
    async def wait() -> types.PublishDiagnosticsParams:
        while True:
            published = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if published.uri == uri and (version is None or published.version == version):
                return published
    return await asyncio.wait_for(wait(), timeout=30)


async def open_llm_flow(client: LanguageClient, tmp_path: Path, connection: str) -> tuple[str, str]:
    """A flow with one LLM node whose connection is ``connection``, opened: its text and URI."""
    text = ("inputs:\n  q: {type: string, default: hi}\noutputs:\n  a: {reference: '${ask.output}'}\nnodes:\n"
            f"- name: ask\n  type: llm\n  source: {{type: code, path: p.jinja2}}\n  connection: {connection}\n"
            "  api: chat\n  inputs:\n    deployment_name: m\n    q: ${inputs.q}\n")
    folder = flow_folder(tmp_path, text)
    (folder / "p.jinja2").write_text("user:\n{{ q }}\n")
    return text, await open_flow(client, folder, text)


async def test_connection_problems_follow_the_store_without_an_edit(client: LanguageClient, tmp_path: Path) -> None:
    from conftest import create_connection

    text, uri = await open_llm_flow(client, tmp_path, "mine")
    assert [d.code for d in client.diagnostics[uri]] == ["unknown-connection"]
    # A completion between an edit and its (debounced) diagnostics must not leave them unchecked.
    edited = text.replace("deployment_name: m", "deployment_name: mm")
    published = asyncio.ensure_future(published_for(client, uri, 2))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangeWholeDocument(edited)]))
    await complete_at(client, uri, types.Position(8, 14))
    assert [d.code for d in (await published).diagnostics] == ["unknown-connection"]
    # Created elsewhere (here: the CLI), the connection clears the problem with no edit.
    published = asyncio.ensure_future(published_for(client, uri))
    create_connection(tmp_path, "name: mine\ntype: open_ai\napi_key: k\nbase_url: http://127.0.0.1:9/v1\n")
    assert list((await published).diagnostics) == []


async def test_an_unknown_connection_is_published_once(client: LanguageClient, tmp_path: Path) -> None:
    text, uri = await open_llm_flow(client, tmp_path, "nowhere")
    line = text.split("\n").index("  connection: nowhere")
    expected = [("unknown-connection", types.Range(types.Position(line, 14), types.Position(line, 21)))]
    assert [(d.code, d.range) for d in client.diagnostics[uri]] == expected
    diagnostics = await change(client, uri, 2, text.replace("deployment_name: m", "deployment_name: mm"))
    assert [(d.code, d.range) for d in diagnostics] == expected


async def test_a_source_path_leads_to_its_tool_function_or_its_template(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    lines = (folder / "flow.dag.yaml").read_text().split("\n")

    async def definition_at(line_text: str) -> list[types.Location] | None:
        found = await client.text_document_definition_async(types.DefinitionParams(
            types.TextDocumentIdentifier(uri), types.Position(lines.index(line_text), 12)))
        return found  # type: ignore[return-value]

    tool_line = TOOL.split("\n").index("def shout(text: str, times: int = 1) -> str:")
    assert await definition_at("    path: shout.py") == [types.Location(
        (folder / "shout.py").as_uri(), types.Range(types.Position(tool_line, 0), types.Position(tool_line, 9)))]
    assert await definition_at("    path: greet.jinja2") == [types.Location(
        (folder / "greet.jinja2").as_uri(), types.Range(types.Position(0, 0), types.Position(0, 0)))]


def contributed_commands() -> set[str]:
    """The command ids package.json contributes; the extension registers each one (itself, or through
    the language client for the server's own commands)."""
    import json

    manifest = json.loads((Path(__file__).resolve().parents[2] / "package.json").read_text())
    return {command["command"] for command in manifest["contributes"]["commands"]}


async def test_every_lens_runs_a_contributed_command_and_stands_on_its_node_after_any_edit(
        client: LanguageClient, tmp_path: Path) -> None:
    commands = contributed_commands()
    folder = flow_folder(tmp_path)
    uri = await open_flow(client, folder)
    text = (folder / "flow.dag.yaml").read_text()
    versions = [text, text.replace("- name: greet", "# lines move down\n- name: greet"),
                text.replace("- name: loud", "- name: louder").replace("${loud.output}", "${louder.output}"),
                # YAML broken at 'loud', below lines that moved: the last clean parse has other lines and nodes
                "# lines move down\n" + text.replace("- name: loud", "- name loud")]
    for version, edited in enumerate(versions, start=1):
        if version > 1:
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument(text=edited)]))
        lenses = await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
        lines = edited.split("\n")
        node_lenses = []
        for lens in lenses or []:
            assert lens.command is not None and lens.command.command in commands, (version, lens)
            if lens.command.command in ("flowline.runNode", "flowline.debugNode"):
                start, end = lens.range.start, lens.range.end
                node_lenses.append((lines[start.line][start.character:end.character], lens.command.arguments))
        assert node_lenses and all(shown == arguments[1] and arguments[0] == uri  # type: ignore[index]
                                   for shown, arguments in node_lenses), (version, node_lenses)


async def test_a_template_that_is_not_utf8_is_flagged_at_its_path(client: LanguageClient, tmp_path: Path) -> None:
    folder = flow_folder(tmp_path)
    (folder / "greet.jinja2").write_bytes("Bonjour {{ name }}, \xe7a va?\n".encode("latin-1"))
    uri = await open_flow(client, folder)
    text = (folder / "flow.dag.yaml").read_text()
    line = text.split("\n").index("    path: greet.jinja2")
    assert list(client.diagnostics[uri]) == [types.Diagnostic(
        range=types.Range(types.Position(line, 10), types.Position(line, 22)),
        message="Source file 'greet.jinja2' of node 'greet' is not valid UTF-8: byte 0xE7 at offset 20 (line 1, "
                "column 21); re-save it as UTF-8 (in VS Code: the encoding in the status bar, then 'Save with "
                "Encoding').",
        severity=types.DiagnosticSeverity.Error, code="source-not-utf8", source="flowline")]


async def test_a_chat_flow_has_a_chat_lens_above_its_inputs(client: LanguageClient, tmp_path: Path) -> None:
    chat = FLOW.replace("  question:\n", "  question:\n    is_chat_input: true\n", 1) \
        .replace("inputs:\n", "inputs:\n  chat_history:\n    type: list\n    default: []\n", 1) \
        .replace("    reference: ${loud.output}\n", "    reference: ${loud.output}\n    is_chat_output: true\n", 1)
    assert chat.count("is_chat") == 2
    folder = flow_folder(tmp_path, chat)
    uri = await open_flow(client, folder)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
    lines = (folder / "flow.dag.yaml").read_text().split("\n")
    chats = [(lens.range.start.line, list(lens.command.arguments or [])) for lens in lenses or []
             if lens.command is not None and lens.command.command == "flowline.openChat"]
    assert chats == [(lines.index("inputs:"), [uri])]
    (tmp_path / "plain").mkdir()
    folder = flow_folder(tmp_path / "plain")
    uri = await open_flow(client, folder)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
    assert not [lens for lens in lenses or [] if lens.command and lens.command.command == "flowline.openChat"]
