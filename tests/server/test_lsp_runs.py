"""Runs from the editor, however they end: the real `flowline lsp` over stdio runs real `flow test`
children. Every run ends with an answer that says how, and with a `run_end` event for the run panel,
even when the child never got to write one; huge values reach the editor clipped (the relay alone, for
a line too long to read)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import write_flow
from flowline.engine.clip import TEXT, TOTAL
from flowline.engine.errors import FlowRunError
from flowline.engine.inputs import node_needs, resolve_node_inputs
from flowline.engine.outcome import RunWatch, ending
from flowline.flow.build import load_flow_text
from flowline.lsp.runs import ChildRun, _relay
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
    assert "Node 'fetch' could not load its tool: No module named " \
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
    "  api: chatt\n  inputs: {deployment_name: m}\n"
)


async def test_a_node_runs_when_only_other_nodes_are_invalid(client: LanguageClient, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "partly", {"clean.py": tool("clean"), "read.py": tool("read"),
                                              "ask.jinja2": "Say hi.\n", "flow.dag.yaml": INVALID_ELSEWHERE})
    uri = await open_flow(client, folder)
    assert [d.code for d in client.diagnostics[uri]] == ["unknown-connection", "llm-api"]
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
    # The CLI's "(listed above)" would point nowhere in a notification: the first error is named instead.
    assert error["message"].startswith("Node 'read' cannot run: it and the nodes it depends on have 1 error(s); "
                                       "the first: flow.dag.yaml:14:8: Unknown api 'chatt' of node 'ask'.")
    line = INVALID_ELSEWHERE.split("\n").index("  api: chatt") + 1
    assert [(p["file"], p["line"], p["column"]) for p in error["problems"]] == [
        (str(folder / "flow.dag.yaml"), line, 8)]
    assert error["problems"][0]["message"].startswith("Unknown api 'chatt' of node 'ask'.")
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


async def test_a_node_reading_a_node_the_flow_lacks_is_refused_with_that_error_and_asks_for_nothing(
        client: LanguageClient, tmp_path: Path) -> None:
    flow = ("inputs:\n  topic: {type: string}\nnodes:\n" + python_node("a", "${inputs.topic}")
            + "- name: c\n  type: python\n  source: {type: code, path: c.py}\n"
              "  inputs: {text: '${nope.output}', mood: '${inputs.topic}'}\n")
    second = "from flowline import tool\n\n\n@tool\ndef c(text: str, mood: str) -> str:\n    return text + mood\n"
    folder = write_flow(tmp_path / "unknown", {"a.py": tool("a"), "c.py": second, "flow.dag.yaml": flow})
    uri = await open_flow(client, folder)
    answer = await execute(client, "flowline.runNode", uri, "c")
    assert answer["status"] == "Failed" and answer["started"] is False and answer["exit_code"] == 2
    assert answer["error"]["type"] == "InvalidFlow" and "needs" not in answer
    line = flow.split("\n").index("  inputs: {text: '${nope.output}', mood: '${inputs.topic}'}") + 1
    assert [(p["line"], p["column"], p["message"]) for p in answer["error"]["problems"]] == [
        (line, 21, "Input 'text' of node 'c' references unknown node 'nope'.")]
    asked = await execute(client, "flowline.runNode", uri, "a")  # a node without errors still asks
    assert asked["status"] == "NeedsInputs" and [n["key"] for n in asked["needs"]] == ["inputs.topic"]


BIG = ("from flowline import tool\n\n\n@tool\ndef t(text: str) -> str:\n"
       "    print('y' * {printed})\n    return text * {times}\n")
BIG_FLOW = ("inputs:\n  text: {type: string, default: hello}\noutputs:\n  out:\n    reference: ${t.output}\n"
            "nodes:\n" + python_node("t", "${inputs.text}"))


@pytest.mark.parametrize("printed,times,seconds", [(300_000, 1_000_000, 5.0), (5_000_000, 20_000_000, 20.0)],
                         ids=["5 MB", "100 MB"])
async def test_a_huge_output_reaches_the_editor_clipped_and_at_once(
        client: LanguageClient, tmp_path: Path, printed: int, times: int, seconds: float) -> None:
    folder = write_flow(tmp_path / "big", {"t.py": BIG.format(printed=printed, times=times), "flow.dag.yaml": BIG_FLOW})
    uri = await open_flow(client, folder)
    events = events_of(client)
    started = time.perf_counter()
    answer = await execute(client, "flowline.runFlow", uri)
    took = time.perf_counter() - started
    assert answer["status"] == "Completed", answer
    out = answer["outputs"]["out"]
    assert len(out) == TEXT and out.startswith("hello" * 1000)
    left = 5 * times - out.index("…")
    assert out.endswith(f"… [{left:,} more characters; run `flowline flow test --events FILE` for the whole value]")
    by_type = {e["type"]: e for e in events}
    assert len(by_type["log"]["message"]) == TEXT and by_type["log"]["message"].endswith("for the whole value]")
    assert by_type["node_end"]["output"] == out and by_type["run_end"]["output"] == {"out": out}
    assert all(len(json.dumps(e)) <= TOTAL for e in events)
    assert took < seconds, f"the answer took {took:.1f} s"
    line = BIG_FLOW.split("\n").index("    reference: ${t.output}")
    hovered = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, BIG_FLOW.split("\n")[line].index("t.output"))))
    assert hovered is not None and '**Last run:**\n```json\n"hellohello' in hovered.contents.value  # remembered


async def test_a_line_too_long_to_read_is_skipped_and_the_run_says_why_it_ended_without_its_end() -> None:
    stdout = asyncio.StreamReader(limit=200)
    sent: list[dict[str, Any]] = []
    ls = SimpleNamespace(protocol=SimpleNamespace(notify=lambda method, event: sent.append(event)))
    child = ChildRun(SimpleNamespace(stdout=stdout), RunWatch("/w/f/flow.dag.yaml", None, {}))  # type: ignore[arg-type]
    remembered: dict[str, Any] = {}
    line = '{"type": "node_end", "run_id": "r", "node": "%s", "status": "Completed", "output": "%s"}\n'
    stdout.feed_data(b'{"type": "run_start", "run_id": "r"}\n' + (line % ("a", "x" * 500)).encode()
                     + (line % ("b", "short")).encode() + b"not json\n" + b'{"type": "node_start", "node": "c"')
    relaying = asyncio.ensure_future(_relay(ls, child, remembered, None))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    stdout.feed_data(b', "pad": "' + b"z" * 500)  # a line longer than the limit, not ended yet
    await asyncio.sleep(0.05)
    stdout.feed_data(b'"}\n{"type": "log", "run_id": "r", "node": "b", "message": "last, without a line break"}')
    stdout.feed_eof()
    await asyncio.wait_for(relaying, 5)
    assert [(e["type"], e.get("node")) for e in sent] == [("run_start", None), ("node_end", "b"), ("log", "b")]
    assert remembered == {"b": "short"} and child.watch.too_long == 2
    assert ending(child.watch, 0, "").answer["error"] == {
        "type": "EventTooLong", "message": "The run wrote 2 event(s) too long for the editor to read (a huge output, "
                                           "input or printed line); run `flowline flow test --events FILE` for the "
                                           "whole run."}


def test_a_reference_to_a_node_the_flow_lacks_is_no_need_and_running_the_node_alone_names_it() -> None:
    text = ("inputs:\n  topic: {type: string}\nnodes:\n- name: c\n  type: python\n  source: {type: code, path: c.py}\n"
            "  inputs: {text: '${nope.output}', mood: '${inputs.topic}'}\n")
    flow, _ = load_flow_text(text, Path("/w/f/flow.dag.yaml"))
    node = flow.node("c")
    assert node is not None
    assert [need.key for need in node_needs(flow, node, {})] == ["inputs.topic"]
    with pytest.raises(FlowRunError, match="^Input 'text' of node 'c' references node 'nope', which the flow does "
                                           "not have.$"):
        resolve_node_inputs(flow, node, {"inputs.topic": "news"})


async def test_a_tagged_run_names_its_tag_on_its_start(client: LanguageClient, tmp_path: Path) -> None:
    """The chat panel tags each turn's run, to follow its tokens from the first event on."""
    folder = write_flow(tmp_path / "tagged", {
        "echo.py": tool("echo"),
        "flow.dag.yaml": "inputs:\n  text: {type: string}\nnodes:\n" + python_node("echo", "${inputs.text}")})
    uri = await open_flow(client, folder)
    events = events_of(client)
    answer = await execute(client, "flowline.runFlow", uri, {"text": "a"}, {"tag": "turn-7"})
    assert answer["status"] == "Completed"
    starts = [e for e in events if e["type"] == "run_start"]
    assert [(e["run_id"], e["tag"]) for e in starts] == [(answer["run_id"], "turn-7")]
    assert all("tag" not in e for e in events if e["type"] != "run_start")
