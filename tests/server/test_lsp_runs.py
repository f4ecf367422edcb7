"""Runs from the editor, however they end: the real `flowline lsp` over stdio runs real `flow test`
children. Every run ends with an answer that says how, and with a `run_end` event for the run panel,
even when the child never got to write one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import write_flow
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_lsp import client, open_flow, plain

__all__ = ["client"]  # the fixture, shared with test_lsp.py

TOOL = "from flowline import tool\n{prelude}\n\n@tool\ndef {name}(text: str) -> str:\n{body}    return text + '!'\n"


def tool(name: str, body: str = "", prelude: str = "") -> str:
    return TOOL.format(name=name, body=body, prelude=prelude)


def python_node(name: str, text: str) -> str:
    return f"- name: {name}\n  type: python\n  source: {{type: code, path: {name}.py}}\n  inputs: {{text: '{text}'}}\n"


def events_of(client: LanguageClient) -> list[dict[str, Any]]:
    """Collects the `flowline/event` notifications the server sends from now on."""
    events: list[dict[str, Any]] = []

    @client.feature("flowline/event")
    def on_event(ls: object, params: object) -> None:
        event = plain(params)
        assert isinstance(event, dict)
        events.append(event)

    return events


async def execute(client: LanguageClient, command: str, *arguments: Any) -> dict[str, Any]:
    answer = plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=list(arguments))))
    assert isinstance(answer, dict)
    return answer


async def test_a_missing_package_ends_as_a_failed_run_that_names_it(client: LanguageClient, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "needs-package", {
        "fetch.py": tool("fetch", prelude="import flowline_test_absent_package"),
        "flow.dag.yaml": "inputs:\n  url: {type: string, default: x}\nnodes:\n"
                         + python_node("fetch", "${inputs.url}")})
    uri = await open_flow(client, folder)
    events = events_of(client)
    answer = await execute(client, "flowline.runFlow", uri, {"url": "page"})
    assert answer["status"] == "Failed" and answer["started"] is False and answer["exit_code"] == 1
    assert answer["missing_module"] == "flowline_test_absent_package"
    error = answer["error"]
    assert error["type"] == "ModuleNotFoundError"
    assert "Node 'fetch' could not load its tool: ModuleNotFoundError: No module named " \
           "'flowline_test_absent_package'" in error["message"]
    assert f"Install it into {sys.executable}" in error["message"] and "Traceback" not in error["message"]
    assert answer["run_id"].startswith("needs-package_")
    assert [(e["type"], e["run_id"]) for e in events] == [("run_start", answer["run_id"]),
                                                          ("run_end", answer["run_id"])]
    assert events[0]["flow"] == str(folder / "flow.dag.yaml") and events[0]["inputs"] == {"url": "page"}
    assert events[1]["status"] == "Failed" and events[1]["error"] == error
    assert events[1]["missing_module"] == "flowline_test_absent_package"


@pytest.mark.parametrize("ending,error_type,message", [
    ("os._exit(3)", "ProcessError", "The run's process exited with code 3 before the run ended."),
    ("os.kill(os.getpid(), signal.SIGKILL)", "ProcessKilled",
     "The run's process was stopped by SIGKILL (the system may have run out of memory)."),
])
async def test_a_crash_or_a_signal_mid_run_ends_the_run_and_its_node(
        client: LanguageClient, tmp_path: Path, ending: str, error_type: str, message: str) -> None:
    folder = write_flow(tmp_path / "crash", {
        "die.py": tool("die", body=f"    {ending}\n", prelude="import os\nimport signal"),
        "flow.dag.yaml": "nodes:\n" + python_node("die", "x")})
    uri = await open_flow(client, folder)
    events = events_of(client)
    answer = await execute(client, "flowline.runFlow", uri)
    assert answer["status"] == "Failed" and answer["started"] is True
    assert answer["error"] == {"type": error_type, "message": message}
    assert [(e["type"], e.get("node"), e.get("status")) for e in events] == [
        ("run_start", None, None), ("node_start", "die", None), ("node_end", "die", "Failed"),
        ("run_end", None, "Failed")]
    assert events[-1]["error"] == answer["error"] and events[-1]["run_id"] == answer["run_id"]


async def test_cancel_ends_the_run_and_its_parallel_nodes_as_canceled(client: LanguageClient, tmp_path: Path) -> None:
    slow = "    import time\n    time.sleep(60)\n"
    folder = write_flow(tmp_path / "parallel", {
        "left.py": tool("left", body=slow), "right.py": tool("right", body=slow),
        "flow.dag.yaml": "nodes:\n" + python_node("left", "a") + python_node("right", "b")})
    uri = await open_flow(client, folder)
    events = events_of(client)
    running = asyncio.ensure_future(execute(client, "flowline.runFlow", uri))
    while sorted(e["node"] for e in events if e["type"] == "node_start") != ["left", "right"]:
        await asyncio.sleep(0.05)
    run_id = events[0]["run_id"]
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.cancelRun", arguments=[run_id])) is True
    answer = await asyncio.wait_for(running, 30)
    assert answer["status"] == "Canceled" and answer["run_id"] == run_id
    assert answer["error"] == {"type": "Canceled", "message": "The run was canceled."}
    ends = [(e["type"], e.get("node"), e["status"]) for e in events if e["type"] in ("node_end", "run_end")]
    assert sorted(ends) == [("node_end", "left", "Canceled"), ("node_end", "right", "Canceled"),
                            ("run_end", None, "Canceled")] and ends[-1][0] == "run_end"
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="flowline.cancelRun", arguments=[run_id])) is False  # over: nothing left to stop


INVALID_ELSEWHERE = (
    "nodes:\n" + python_node("clean", "x") + python_node("read", "${ask.output}") +
    "- name: ask\n  type: llm\n  source: {type: code, path: ask.jinja2}\n  connection: nowhere\n"
    "  api: chat\n  inputs: {deployment_name: m}\n"
)


async def test_a_node_runs_when_only_other_nodes_are_invalid(client: LanguageClient, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "partly", {"clean.py": tool("clean"), "read.py": tool("read"),
                                              "ask.jinja2": "Say hi.\n", "flow.dag.yaml": INVALID_ELSEWHERE})
    uri = await open_flow(client, folder)
    assert [d.code for d in client.diagnostics[uri]] == ["unknown-connection"]
    answer = await execute(client, "flowline.runNode", uri, "clean")
    assert answer["status"] == "Completed" and answer["outputs"] == "x!"


async def test_a_refused_node_run_lists_the_errors_upstream(client: LanguageClient, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "partly", {"clean.py": tool("clean"), "read.py": tool("read"),
                                              "ask.jinja2": "Say hi.\n", "flow.dag.yaml": INVALID_ELSEWHERE})
    uri = await open_flow(client, folder)
    events = events_of(client)
    answer = await execute(client, "flowline.runNode", uri, "read", {"ask.output": "hi"})
    assert answer["status"] == "Failed" and answer["started"] is False and answer["exit_code"] == 2
    error = answer["error"]
    assert error["type"] == "InvalidFlow"
    assert error["message"] == ("Node 'read' cannot run: it and the nodes it depends on have 1 error(s) (listed "
                                "above); fix them before running (see `flowline flow validate`).")
    line = INVALID_ELSEWHERE.split("\n").index("  connection: nowhere") + 1
    assert [(p["file"], p["line"], p["column"]) for p in error["problems"]] == [
        (str(folder / "flow.dag.yaml"), line, 15)]
    assert error["problems"][0]["message"].startswith("Node 'ask' uses connection 'nowhere', which does not exist.")
    assert [(e["type"], e.get("node"), e.get("status")) for e in events] == [("run_start", "read", None),
                                                                             ("run_end", "read", "Failed")]


async def test_a_node_whose_inputs_never_ran_is_not_run_and_says_what_it_needs(client: LanguageClient,
                                                                              tmp_path: Path) -> None:
    second = ("from flowline import tool\n\n\n@tool\ndef second(text: str, mood: str) -> str:\n"
              "    return f'{text} ({mood})'\n")
    folder = write_flow(tmp_path / "needs", {"first.py": tool("first"), "second.py": second, "flow.dag.yaml":
                        "inputs:\n  topic: {type: string}\n  tone: {type: string, default: calm}\nnodes:\n"
                        + python_node("first", "${inputs.topic}")
                        + "- name: second\n  type: python\n  source: {type: code, path: second.py}\n"
                          "  inputs: {text: '${first.output.title}', mood: '${inputs.tone}'}\n"})
    uri = await open_flow(client, folder)
    events = events_of(client)
    answer = await execute(client, "flowline.runNode", uri, "second")
    assert answer == {"run_id": None, "status": "NeedsInputs", "outputs": None, "needs": [
        {"input": "text", "reference": "${first.output.title}", "key": "first.output.title", "kind": "node",
         "type": None}]}
    needs_topic = await execute(client, "flowline.runNode", uri, "first")
    assert needs_topic["needs"] == [{"input": "text", "reference": "${inputs.topic}", "key": "inputs.topic",
                                     "kind": "input", "type": "string"}]
    assert events == []
    whole = await execute(client, "flowline.runNode", uri, "second", {"first.output": {"title": "News"}})
    assert whole["status"] == "Completed" and whole["outputs"] == "News (calm)"
