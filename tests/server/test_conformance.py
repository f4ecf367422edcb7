"""Flowline gives the outputs promptflow 1.18.5 gives, for the same flows and inputs.

Each folder under conformance/ is a flow with cases.json (inputs, and optionally a variant or a
single node) and expected.json. The expected values were produced by running promptflow 1.18.5
itself on these folders: `bench/pf_reference.py` (promptflow installed in its own venv, telemetry
and tracing off) calls `PFClient().test(...)` for each case and records outputs or the error.
Here the same cases go through the real `flowline flow test` command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

CONFORMANCE = Path(__file__).resolve().parent / "conformance"

# Where Flowline deliberately differs. promptflow hands a tool's generator to downstream nodes and
# then joins the *same*, already consumed generator for the flow output, which comes out empty.
# Flowline records the items once, so every consumer sees all of them.
DELIBERATE = {("generators_async", 0, "sync_gen"): "s0 s1 s2 ", ("generators_async", 1, "sync_gen"): "s0 "}


def _cases() -> list[Any]:
    params = []
    for folder in sorted(p for p in CONFORMANCE.iterdir() if (p / "cases.json").exists()):
        cases = json.loads((folder / "cases.json").read_text())
        expected = json.loads((folder / "expected.json").read_text())
        for index, (case, want) in enumerate(zip(cases, expected, strict=True)):
            params.append(pytest.param(folder, index, case, want, id=f"{folder.name}-{index}"))
    return params


def _args(folder: Path, case: dict[str, Any], tmp_path: Path) -> list[str]:
    args = ["flow", "test", "--flow", str(folder)]
    inputs = case.get("inputs") or {}
    if inputs and all(isinstance(v, str) for v in inputs.values()):
        args += ["--inputs", *(f"{k}={v}" for k, v in inputs.items())]
    elif inputs:
        path = tmp_path / "inputs.json"
        path.write_text(json.dumps(inputs))
        args += ["--inputs", str(path)]
    if case.get("variant"):
        args += ["--variant", case["variant"]]
    if case.get("node"):
        args += ["--node", case["node"]]
    return args


@pytest.mark.parametrize("folder,index,case,expected", _cases())
def test_same_result_as_promptflow(folder: Path, index: int, case: dict[str, Any], expected: dict[str, Any],
                                   tmp_path: Path) -> None:
    result = run_cli(*_args(folder, case, tmp_path))
    if "error" in expected:
        assert result.code in (1, 2), result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr.split("\n")[0]
        return
    assert result.code == 0, result.stderr
    want = expected["outputs"]
    if isinstance(want, dict):
        want = {k: DELIBERATE.get((folder.name, index, k), v) for k, v in want.items()}
    assert result.json() == want


def test_failing_tool_names_node_exception_and_line() -> None:
    result = run_cli("flow", "test", "--flow", str(CONFORMANCE / "failing_tool"))
    assert result.code == 1
    assert result.stdout == ""
    assert "Run failed in node 'divide': ZeroDivisionError: cannot divide 10 by zero" in result.stderr
    assert "divide.py:6" in result.stderr


def test_single_node_missing_input_is_a_usage_error() -> None:
    result = run_cli("flow", "test", "--flow", str(CONFORMANCE / "single_node"), "--node", "last",
                     "--inputs", "middle=M", "right=R")
    assert result.code == 2
    assert "Required input(s) left of node 'last' not given" in result.stderr
    assert "Traceback" not in result.stderr
