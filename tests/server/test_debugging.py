"""Debugging flows through debugpy's real adapter, driven over stdio by a DAP client (no VS Code).

Each session is launched the way the extension launches it (extension/src/debugLaunch.ts): the
module ``flowline`` running ``flow test`` from the flow's folder, inputs and events in files, and
with justMyCode Flowline's own package excluded from "my code"; exception filters are those the
extension's sessions start with ("User Uncaught Exceptions" on). Breakpoints go on the lines marked
``# @bp`` in samples/debugging (a tool, the sibling module it imports, an async tool) and in the
``additional_includes`` file samples/shared/wording.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flowline
import pytest
from conftest import SAMPLES, write_flow
from dap_client import DapClient

FLOW = SAMPLES / "debugging"
TOOL = FLOW / "parse_order.py"
SIBLING = FLOW / "quantities.py"
ASYNC_TOOL = FLOW / "count_items.py"
INCLUDED = (SAMPLES / "shared" / "wording.py").resolve()
ENGINE = Path(flowline.__file__).resolve().parent


def marked(path: Path) -> int:
    """The line (1-based) marked ``# @bp`` in a file."""
    lines = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "# @bp" in text]
    assert len(lines) == 1, f"{path} should mark exactly one line with '# @bp'"
    return lines[0]


@dataclass
class Stop:
    """Where the debuggee stopped: the reason, the top frame, every frame's file."""

    reason: str
    thread: int
    frame: int
    file: Path
    line: int
    files: list[Path]


class Session:
    """One debug session of a flow (or a node) with breakpoints set before it runs."""

    def __init__(self, client: DapClient, folder: Path) -> None:
        self.client = client
        self.events_file = folder / "events.jsonl"
        self.inputs_file = folder / "inputs.json"

    def launch(self, flow: Path, *, node: str | None = None, inputs: dict[str, Any] | None = None,
               breakpoints: tuple[Path, ...] | list[Path] = (), exceptions: tuple[str, ...] = ("userUnhandled",),
               just_my_code: bool = True) -> None:
        self.inputs_file.write_text(json.dumps(inputs or {}), encoding="utf-8")
        args = ["flow", "test", "--flow", str(flow / "flow.dag.yaml"), "--inputs", str(self.inputs_file)]
        if node:
            args += ["--node", node]
        args += ["--events", str(self.events_file)]  # the extension's proxy adds this to each launch
        launch = {"type": "flowline", "request": "launch", "name": "test", "module": "flowline", "args": args,
                  "cwd": str(flow), "console": "internalConsole", "justMyCode": just_my_code,
                  "rules": [{"path": str(ENGINE), "include": False}] if just_my_code else []}
        self.client.request("initialize", {"clientID": "pytest", "adapterID": "flowline", "pathFormat": "path",
                                           "linesStartAt1": True, "columnsStartAt1": True})
        pending = self.client.send("launch", launch)
        self.client.event("initialized")
        for path in breakpoints:
            answer = self.client.request("setBreakpoints", {"source": {"path": str(path)},
                                                            "breakpoints": [{"line": marked(path)}]})
            assert answer["breakpoints"][0]["verified"], answer
        self.client.request("setExceptionBreakpoints", {"filters": list(exceptions)})
        self.client.request("configurationDone")
        self.client.response(pending)

    def stopped(self) -> Stop:
        """The next stop, with its stack."""
        body = self.client.event("stopped")
        frames = self.client.request("stackTrace", {"threadId": body["threadId"]})["stackFrames"]
        top = frames[0]
        return Stop(body["reason"], body["threadId"], top["id"], Path(top["source"]["path"]), top["line"],
                    [Path(f["source"]["path"]) for f in frames if f.get("source", {}).get("path")])

    def evaluate(self, stop: Stop, expression: str) -> str:
        """The repr of an expression in the stopped frame."""
        result: str = self.client.request("evaluate", {"expression": expression, "frameId": stop.frame,
                                                       "context": "repl"})["result"]
        return result

    def resume(self, stop: Stop) -> None:
        self.client.request("continue", {"threadId": stop.thread})

    def exit_code(self) -> int:
        code: int = self.client.event("exited")["exitCode"]
        self.client.event("terminated")
        return code

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.events_file.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    client = DapClient()
    try:
        yield Session(client, tmp_path)
    finally:
        log = client.close()
        assert "Traceback" not in log, log


def test_flow_run_stops_in_a_tool_its_sibling_module_an_async_tool_and_an_include(session: Session) -> None:
    session.launch(FLOW, breakpoints=[TOOL, SIBLING, ASYNC_TOOL, INCLUDED])
    seen: list[tuple[str, int, str]] = []
    watch = {SIBLING: "words", TOOL: "name", ASYNC_TOOL: "items", INCLUDED: "count"}
    for _ in range(9):  # three items pass the tool and its module, then the async tool, then two plurals
        stop = session.stopped()
        assert stop.reason == "breakpoint"
        assert stop.line == marked(stop.file)
        assert all(ENGINE not in f.parents for f in stop.files), stop.files  # justMyCode hides the engine
        seen.append((stop.file.name, stop.line, session.evaluate(stop, watch[stop.file])))
        session.resume(stop)
    assert session.exit_code() == 0
    assert seen == [
        ("quantities.py", marked(SIBLING), "['3', 'apples']"), ("parse_order.py", marked(TOOL), "'apples'"),
        ("quantities.py", marked(SIBLING), "['2', 'pears']"), ("parse_order.py", marked(TOOL), "'pears'"),
        ("quantities.py", marked(SIBLING), "['12', 'plums']"), ("parse_order.py", marked(TOOL), "'plums'"),
        ("count_items.py", marked(ASYNC_TOOL), "{'apples': 3, 'pears': 2, 'plums': 12}"),
        ("wording.py", marked(INCLUDED), "17"), ("wording.py", marked(INCLUDED), "3"),
    ]
    end = session.events()[-1]
    assert (end["type"], end["status"]) == ("run_end", "Completed")
    assert end["output"] == {"total": 17, "summary": "17 items of 3 kinds"}


@pytest.mark.parametrize(("node", "inputs", "stops"), [
    ("parse_order", {"inputs.order": "5 figs"}, [(SIBLING, "words", "['5', 'figs']"), (TOOL, "name", "'figs'")]),
    ("count_items", {"parse_order.output": {"figs": 5, "kiwis": 1}},
     [(ASYNC_TOOL, "items", "{'figs': 5, 'kiwis': 1}")]),
    ("describe", {"parse_order.output": {"figs": 5}, "count_items.output": 5},
     [(INCLUDED, "count", "5"), (INCLUDED, "count", "1")]),
])
def test_node_run_stops_at_its_breakpoints(session: Session, node: str, inputs: dict[str, Any],
                                           stops: list[tuple[Path, str, str]]) -> None:
    session.launch(FLOW, node=node, inputs=inputs, breakpoints=[TOOL, SIBLING, ASYNC_TOOL, INCLUDED])
    for file, expression, value in stops:
        stop = session.stopped()
        assert (stop.reason, stop.file, stop.line) == ("breakpoint", file, marked(file))
        assert all(ENGINE not in f.parents for f in stop.files), stop.files
        assert session.evaluate(stop, expression) == value
        session.resume(stop)
    assert session.exit_code() == 0
    end = session.events()[-1]
    assert (end["type"], end["node"], end["status"]) == ("run_end", node, "Completed")


@pytest.mark.parametrize("node", [None, "count_items"])
@pytest.mark.parametrize("just_my_code", [True, False])
def test_just_my_code_is_the_same_for_a_node_and_a_flow(session: Session, node: str | None,
                                                         just_my_code: bool) -> None:
    inputs = {"parse_order.output": {"figs": 5}} if node else {}
    session.launch(FLOW, node=node, inputs=inputs, breakpoints=[ASYNC_TOOL], just_my_code=just_my_code)
    stop = session.stopped()
    assert (stop.file, stop.line) == (ASYNC_TOOL, marked(ASYNC_TOOL))
    engine_frames = [f for f in stop.files if ENGINE in f.parents]
    assert bool(engine_frames) is not just_my_code, stop.files
    session.resume(stop)
    assert session.exit_code() == 0


@pytest.mark.parametrize("node", [None, "parse_amount"])
def test_an_exception_a_tool_does_not_handle_stops_at_the_raising_line(session: Session, node: str | None) -> None:
    flow = SAMPLES / "failing-tool"
    session.launch(flow, node=node)
    stop = session.stopped()
    raising = [n for n, t in enumerate((flow / "parse_amount.py").read_text().splitlines(), 1) if "int(cleaned)" in t]
    assert (stop.reason, stop.file, [stop.line]) == ("exception", flow / "parse_amount.py", raising)
    assert session.evaluate(stop, "cleaned") == "'forty-two'"
    info = session.client.request("exceptionInfo", {"threadId": stop.thread})
    assert info["exceptionId"].startswith("ValueError")
    assert info["description"] == "invalid literal for int() with base 10: 'forty-two'"
    session.resume(stop)
    assert session.exit_code() == 1  # the run fails as it would without the debugger
    end = session.events()[-1]
    assert (end["type"], end["status"]) == ("run_end", "Failed")


def test_an_async_tool_that_raises_stops_there_too(session: Session, tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "flow", {
        "flow.dag.yaml": """
            inputs:
              n: {type: int, default: 0}
            outputs:
              out: {type: int, reference: "${ratio.output}"}
            nodes:
            - name: ratio
              type: python
              source: {type: code, path: ratio.py}
              inputs: {n: "${inputs.n}"}
        """,
        "ratio.py": """
            import asyncio

            from flowline import tool


            @tool
            async def ratio(n: int) -> float:
                await asyncio.sleep(0)
                return 10 / n
        """,
    })
    session.launch(flow)
    stop = session.stopped()
    assert (stop.reason, stop.file.name, stop.line) == ("exception", "ratio.py", 9)
    assert session.evaluate(stop, "n") == "0"
    session.resume(stop)
    assert session.exit_code() == 1
