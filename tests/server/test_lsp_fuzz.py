"""Thousands of random edits of the sample flows through didChange: the server answers every request
and never logs an exception (hypothesis drives the edits; the server is the real `flowline lsp`)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_wire import WireClient
from random_edits import apply, edit

FLOWS = ["hello", "conditional", "web-classification", "chat-basic"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WireClient, dict[str, tuple[str, str]]]]:
    root = tmp_path_factory.mktemp("fuzz")
    documents = {}
    for name in FLOWS:
        shutil.copytree(SAMPLES / name, root / name)
        path = root / name / "flow.dag.yaml"
        documents[name] = (path.as_uri(), path.read_text())
    client = WireClient(root)
    for uri, text in documents.values():
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": text}})
    yield client, documents
    logs = [n for n in client.notifications if n["method"] == "window/logMessage" and n["params"]["type"] == 1]
    stderr = client.close()
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr[-3000:]
    assert logs == []


versions = {"n": 1}


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(flow=st.sampled_from(FLOWS), changes=st.lists(edit, min_size=1, max_size=6), line=st.integers(0, 80),
       column=st.integers(0, 60))
def test_server_survives_random_edits(server: tuple[WireClient, dict[str, tuple[str, str]]], flow: str,
                                      changes: list[tuple[str, int, object]], line: int, column: int) -> None:
    client, documents = server
    uri, original = documents[flow]
    text = apply(original, changes)
    versions["n"] += 1
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": versions["n"]},
                                             "contentChanges": [{"text": text}]})
    doc = {"uri": uri}
    position = {"line": line, "character": column}
    client.request("textDocument/completion", {"textDocument": doc, "position": position})
    client.request("textDocument/hover", {"textDocument": doc, "position": position})
    client.request("textDocument/documentSymbol", {"textDocument": doc})
    client.request("textDocument/codeLens", {"textDocument": doc})
    client.request("textDocument/definition", {"textDocument": doc, "position": position})
    client.request("textDocument/codeAction", {"textDocument": doc, "range": {"start": position, "end": position},
                                               "context": {"diagnostics": []}})
    client.request("textDocument/prepareRename", {"textDocument": doc, "position": position})


def test_debug_log_times_each_validation_pass(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "hello", tmp_path / "hello")
    path = tmp_path / "hello" / "flow.dag.yaml"
    text = path.read_text().replace("${inputs.name}", "${inputs.nmae}", 1)
    client = WireClient(tmp_path, "--log-level", "debug")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "yaml",
                                                            "version": 3, "text": text}})
    client.wait_for("textDocument/publishDiagnostics")
    client.request("textDocument/completion", {"textDocument": {"uri": path.as_uri()},
                                               "position": {"line": 0, "character": 0}})
    log = client.close()
    assert re.search(rf"DEBUG flowline.lsp.diagnostics: diagnostics {re.escape(path.as_uri())} v3: 1 problems, "
                     r"[\d.]+ ms after the change", log), log
    assert re.search(r"completion \S+ 0:0: \d+ items in [\d.]+ ms", log), log
