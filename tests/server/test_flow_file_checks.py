"""Checks of the flow file as a whole, through the real CLI: an empty file, and environment variables that read
a connection the store lacks. (A file that is not UTF-8, reported at the byte: test_validate.py.)"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import create_connection, one_node_flow, position, run_cli, write_flow

EMPTY = ("error: flow.dag.yaml is empty; a flow needs 'nodes:' (each with 'name', 'type' and 'source') and usually "
         "'inputs:' and 'outputs:'. `flowline flow init --flow <folder>` writes one to start from. [flow-empty]")


def test_an_empty_flow_file_is_an_error(tmp_path: Path) -> None:
    """promptflow 1.18.5 refuses an empty flow.dag.yaml; Flowline ran it (`{}`, exit 0) and validated it clean."""
    for text in ("", "# nothing yet\n"):
        folder = write_flow(tmp_path / "f", {"flow.dag.yaml": text, "d.jsonl": '{"a": 1}\n'})
        flow = folder / "flow.dag.yaml"
        checked = run_cli("flow", "validate", "--source", str(folder))
        assert (checked.code, checked.stdout) == (1, f"{flow}:1:1: {EMPTY}\n")
        tested = run_cli("flow", "test", "--flow", str(folder))
        assert (tested.code, tested.stdout) == (2, "")
        assert tested.stderr.splitlines()[0] == f"{flow}:1:1: {EMPTY}"
        run = run_cli("run", "create", "--flow", str(folder), "--data", str(folder / "d.jsonl"))
        assert (run.code, run.stdout) == (2, "") and EMPTY in run.stderr


def test_environment_variable_naming_an_unknown_connection_is_a_warning_at_the_name(tmp_path: Path) -> None:
    """As for a node's connection the store lacks (the run is refused naming the variable)."""
    create_connection(tmp_path, "name: myc\ntype: custom\nconfigs: {endpoint: http://e.test}\nsecrets: {k: v}\n")
    text = ("environment_variables:\n  A: ${nosuch.key}\n  B: \"${myc.k}\"\n  C: plain\n"
            + textwrap.dedent(one_node_flow("x")).lstrip())
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": text, "t.py": "from flowline import tool\n\n\n@tool\n"
                                                                         "def t(text: str) -> str:\n    return text\n"})
    checked = run_cli("flow", "validate", "--source", str(folder), "--json")
    assert checked.code == 0, checked.stdout
    line, column = position(text, "nosuch")
    assert [(p["line"], p["column"], p["end_column"], p["severity"], p["code"]) for p in json.loads(checked.stdout)] \
        == [(line, column, column + len("nosuch"), "warning", "unknown-connection")]
    assert json.loads(checked.stdout)[0]["message"].startswith(
        "Environment variable 'A' uses connection 'nosuch', which is not created on this machine.")
