"""The language server on package tool nodes: their inputs completed and hovered like a code tool's, the
`tool:` value completed with the installed package tools, an unknown tool flagged at its id. The server
lists the tools through a child `flowline tool list` (the demo package of test_package_tools.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from test_lsp import marked, open_flow

FLOW = """
inputs:
  who: {type: string, default: Ada}
outputs:
  out: {reference: "${g.output}"}
nodes:
- name: g
  type: python
  source:
    type: package
    tool: flowline_demo_tools.tools.Greeter.greet
  inputs:
    connection: demo
    name: ${inputs.who}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "flowline", "lsp"]))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def folder_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "flow"
    folder.mkdir(exist_ok=True)
    (folder / "flow.dag.yaml").write_text(text)
    return folder


async def completion(client: LanguageClient, uri: str, position: types.Position) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), position))
    assert result is not None
    return list(result.items)


async def test_package_tool_inputs_are_completed_and_hovered(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("    name: ${inputs.who}\n", "    name: ${inputs.who}\n    |\n"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    items = await completion(client, uri, position)
    assert [(i.label, i.detail) for i in items] == [("style", 'string = "plain"'), ("punctuation", 'string = "!"')]
    text, position = marked(FLOW.replace("    name: ${inputs.who}", "    na|me: ${inputs.who}"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
    assert hover is not None and hover.contents.value == "Parameter of `greet`: `name: string`"
    text, position = marked(FLOW.replace("- name: g", "- name: |g"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
    assert hover is not None
    assert "package tool: `flowline_demo_tools.tools.Greeter.greet`" in hover.contents.value
    assert "def greet(connection: CustomConnection, style: string = \"plain\", name: string, punctuation: " \
           "string = \"!\")" in hover.contents.value


async def test_the_tool_value_is_completed_with_package_tools(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("tool: flowline_demo_tools.tools.Greeter.greet", "tool: flow|"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    items = await completion(client, uri, position)
    labels = [i.label for i in items]
    assert "flowline_demo_tools.tools.shout" in labels and "promptflow.tools.embedding.embedding" in labels
    shout = next(i for i in items if i.label == "flowline_demo_tools.tools.shout")
    start = types.Position(position.line, position.character - len("flow"))
    assert shout.detail == "Shout" and shout.text_edit == types.TextEdit(types.Range(start, position),
                                                                         "flowline_demo_tools.tools.shout")


async def test_an_unknown_package_tool_is_flagged_at_its_id(client: LanguageClient, tmp_path: Path) -> None:
    text = FLOW.replace("Greeter.greet", "Greeter.gret").lstrip("\n")
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    errors = [d for d in client.diagnostics[uri] if d.severity == types.DiagnosticSeverity.Error]
    line = text.split("\n").index("    tool: flowline_demo_tools.tools.Greeter.gret")
    assert [(d.code, d.range) for d in errors] == [("package-tool-unknown", types.Range(
        types.Position(line, 10), types.Position(line, 10 + len("flowline_demo_tools.tools.Greeter.gret"))))]
    assert errors[0].message.startswith("Package tool 'flowline_demo_tools.tools.Greeter.gret' of node 'g' is not "
                                        "installed. Did you mean 'flowline_demo_tools.tools.Greeter.greet'")


async def test_an_enum_inputs_values_are_completed_and_hovered(client: LanguageClient, tmp_path: Path) -> None:
    text, position = marked(FLOW.replace("    name: ${inputs.who}\n", "    name: ${inputs.who}\n    style: |\n"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    items = await completion(client, uri, position)
    assert [(i.label, i.detail) for i in items] == [("plain", "default"), ("loud", None)]
    text, position = marked(FLOW.replace("    name: ${inputs.who}\n", "    name: ${inputs.who}\n    sty|le: loud\n"))
    uri = await open_flow(client, folder_with(tmp_path, text), text)
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
    assert hover is not None
    assert hover.contents.value == 'Parameter of `greet`: `style: string` = `"plain"`\n\nOne of: `plain`, `loud`'
