"""What goes wrong while a run is set up (tools imported, LLM clients built) reaches the user as one line:
``flow test`` refuses (exit 2) or fails (exit 1), ``run create`` stores a Failed run; never a traceback.
Output a tool file prints while it is imported goes to stderr, so stdout stays data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import create_connection, one_node_flow, position, run_cli, write_flow

LLM_FLOW = {"flow.dag.yaml": """
    inputs:
      q: {type: string, default: hi}
    outputs:
      o: {reference: "${a.output}"}
    nodes:
    - name: a
      type: llm
      source: {type: code, path: p.jinja2}
      inputs: {deployment_name: gpt, q: "${inputs.q}"}
      connection: myc
      api: chat
""", "p.jinja2": "user:\n{{q}}\n", "d.jsonl": '{"q": "x"}\n'}
CUSTOM = "name: myc\ntype: custom\nconfigs: {endpoint: http://cfg.example}\nsecrets: {token: tok-secret-1}\n"
WRONG_TYPE = ("Node 'a': connection 'myc' has type 'custom'; LLM nodes need an open_ai or azure_open_ai "
              "connection.")


def _record(result_stdout: str) -> dict:
    return json.loads(result_stdout)


def test_llm_node_with_a_custom_connection_is_one_line(tmp_path: Path) -> None:
    """promptflow 1.18.5 (observed): `pf flow test` fails with "ResolveToolError: Tool load failed in 'a':
    (InvalidConnectionType) Connection type CustomConnection is not supported for LLM."; `pf flow validate`
    says nothing. Flowline: validate warns at the connection's value, flow test refuses (exit 2) in one
    line, run create stores a Failed run with that line (by the flow, or by --connections)."""
    create_connection(tmp_path, CUSTOM)
    create_connection(tmp_path, "name: oai\ntype: open_ai\napi_key: sk-x\nbase_url: http://127.0.0.1:9/v1\n")
    folder = write_flow(tmp_path / "f", LLM_FLOW)
    checked = run_cli("flow", "validate", "--source", str(folder))
    assert checked.code == 0, checked.stdout
    line, column = position(LLM_FLOW["flow.dag.yaml"], "myc")
    assert checked.stdout == (f"{folder / 'flow.dag.yaml'}:{line}:{column}: warning: Node 'a' uses connection "
                              "'myc', which has type 'custom'; LLM nodes need an open_ai or azure_open_ai "
                              "connection (stored: oai). Name one, or create one with `flowline connection create "
                              "--file <file>.yaml`. [connection-type]\n")
    tested = run_cli("flow", "test", "--flow", str(folder))
    assert (tested.code, tested.stdout) == (2, "")
    assert tested.stderr.splitlines()[-1] == f"flowline: error: {WRONG_TYPE}"
    assert "Traceback" not in tested.stderr
    for extra in ((), ("--connections", "a.connection=myc")):
        if extra:  # the flow names a right connection; the run's --connections names the wrong one
            (folder / "flow.dag.yaml").write_text((folder / "flow.dag.yaml").read_text().replace("myc", "oai"))
        run = run_cli("run", "create", "--flow", str(folder), "--data", str(folder / "d.jsonl"), *extra)
        assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
        assert (_record(run.stdout)["status"], _record(run.stdout)["reason"]) == ("Failed", WRONG_TYPE)


def test_llm_client_setting_that_is_no_number_is_one_line(tmp_path: Path) -> None:
    """The client is built before any line runs; a setting it cannot take refuses the run in one line."""
    import os

    create_connection(tmp_path, "name: myc\ntype: open_ai\napi_key: sk-x\nbase_url: http://127.0.0.1:9/v1\n")
    folder = write_flow(tmp_path / "f", LLM_FLOW)
    tested = run_cli("flow", "test", "--flow", str(folder), env={**os.environ, "FLOWLINE_LLM_MAX_RETRIES": "many"})
    assert (tested.code, tested.stdout) == (2, "")
    assert tested.stderr == ("flowline: error: FLOWLINE_LLM_MAX_RETRIES='many' is not a number of 0 or more; set it "
                             "to one (default 3) or unset it.\n")


def test_keyboard_interrupt_raised_at_import_is_a_load_failure(tmp_path: Path) -> None:
    """promptflow 1.18.5 ends "interrupted" with no run stored; a tool file raising KeyboardInterrupt is a
    tool that cannot load (Ctrl-C itself still interrupts: test_interrupt.py)."""
    folder = write_flow(tmp_path / "f", {**{"flow.dag.yaml": one_node_flow()}, "d.jsonl": '{"text": "a"}\n',
                                         "t.py": "from flowline import tool\nraise KeyboardInterrupt\n\n\n@tool\n"
                                                 "def t(text: str) -> str:\n    return text\n"})
    line = (f"Node 't' could not load its tool: KeyboardInterrupt: t.py raised KeyboardInterrupt while being "
            f"imported; a tool file defines its @tool function and must not raise it (remove the raise) "
            f"({folder / 't.py'}:2)")
    tested = run_cli("flow", "test", "--flow", str(folder), "--inputs", "text=a")
    assert (tested.code, tested.stdout, tested.stderr) == (1, "", line + "\n")
    for extra in ((), ("--worker-processes", "2")):
        run = run_cli("run", "create", "--flow", str(folder), "--data", str(folder / "d.jsonl"), *extra)
        assert run.code == 1, run.stderr
        assert (_record(run.stdout)["status"], _record(run.stdout)["reason"]) == ("Failed", line)


IMPORT_PRINT = """
    print("hello at import")

    from flowline import tool


    @tool
    def t(text: str) -> str:
        return text
"""


@pytest.mark.parametrize("command", [
    ("flow", "test", "--inputs", "text=a"),
    ("flow", "test", "--inputs", "text=a", "--events", "-"),
    ("run", "create", "--data", "d.jsonl"),
    ("run", "create", "--data", "d.jsonl", "--worker-processes", "2"),
])
def test_print_at_tool_import_goes_to_stderr(tmp_path: Path, command: tuple[str, ...]) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": one_node_flow(), "t.py": IMPORT_PRINT,
                                         "d.jsonl": '{"text": "a"}\n'})
    result = run_cli(*command[:2], "--flow", str(folder), *command[2:], cwd=folder)
    assert result.code == 0, result.stderr
    assert "hello at import" in result.stderr and "hello at import" not in result.stdout
    if "--events" in command:
        assert [json.loads(line)["type"] for line in result.stdout.splitlines()][0] == "run_start"
    else:
        assert json.loads(result.stdout)  # one JSON document: the outputs, or the run's record
