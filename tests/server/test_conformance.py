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
from conftest import flow_test_args, run_cli

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


@pytest.mark.parametrize("folder,index,case,expected", _cases())
def test_same_result_as_promptflow(folder: Path, index: int, case: dict[str, Any], expected: dict[str, Any],
                                   tmp_path: Path) -> None:
    result = run_cli(*flow_test_args(folder, case, tmp_path))
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


# Batch cases: conformance_batch/<case>/ holds a flow, data.jsonl and expected.json, recorded from
# promptflow 1.18.5 by `bench/pf_batch_reference.py tests/server/conformance_batch/<case>` (each data
# column mapped to the input of its name; per line, promptflow's status and outputs, or its innermost
# error code and the parameters its message was formatted with).
BATCH = Path(__file__).resolve().parent / "conformance_batch"

# promptflow passes a null `string` input as the text 'None' (it converts with str()); Flowline
# passes None, as the data says (docs/ARCHITECTURE.md section 10).
DELIBERATE_BATCH = {("null_inputs", "4", "s"): "NoneType None"}


def _batch_cases() -> list[Any]:
    return [pytest.param(folder, id=folder.name)
            for folder in sorted(p for p in BATCH.iterdir() if (p / "data.jsonl").exists())]


@pytest.mark.parametrize("folder", _batch_cases())
def test_batch_same_lines_as_promptflow(folder: Path) -> None:
    expected = json.loads((folder / "expected.json").read_text())
    first = json.loads((folder / "data.jsonl").read_text().splitlines()[0])
    created = run_cli("run", "create", "--flow", str(folder), "--data", str(folder / "data.jsonl"), "--name", "b",
                      "--column-mapping", *(f"{k}=${{data.{k}}}" for k in first))
    assert created.code == 0, created.stderr
    rows = {str(row["line_number"]): row for row in run_cli("run", "show-details", "--name", "b", "--json").json()}
    assert rows.keys() == expected["lines"].keys()
    for number, want in expected["lines"].items():
        row = rows[number]
        assert row["status"] == want["status"], (number, row)
        if "error" in want:
            assert row["error"]["type"] == want["error"]["code"]
            # Same facts as promptflow's message: the input, its type and the line; the output and why.
            for value in want["error"]["parameters"].values():
                assert value in row["error"]["message"], (number, row["error"]["message"])
        else:
            outputs = {k: DELIBERATE_BATCH.get((folder.name, number, k), v) for k, v in want["outputs"].items()}
            assert row["outputs"] == outputs


def test_null_input_of_a_single_run_is_a_type_error(tmp_path: Path) -> None:
    # `pf flow test --inputs in.json` with "n": null printed "pf.flow.test failed with UserErrorException:
    # Exception: The input for flow is incorrect. The value for flow input 'n' in line 0 of input data does
    # not match the expected type 'int'. ..." (and alike for bool and double; a null string became 'None').
    for name, type_name in (("n", "int"), ("b", "bool"), ("d", "double")):
        values: dict[str, Any] = {"n": 1, "b": True, "d": 1.5, "s": "text", name: None}
        (tmp_path / "in.json").write_text(json.dumps(values))
        result = run_cli("flow", "test", "--flow", str(BATCH / "null_inputs"), "--inputs", str(tmp_path / "in.json"))
        assert result.code == 2
        assert result.stdout == ""
        assert (f"The value for flow input '{name}' does not match the expected type '{type_name}': it is null."
                in result.stderr)
        assert "Traceback" not in result.stderr


def test_unserializable_output_fails_the_run() -> None:
    # `pf flow test` printed "pf.flow.test failed with UserErrorException: Exception: The output 'thing' for
    # flow is incorrect. The output value is not JSON serializable. JSON dump failed: (TypeError) Object of
    # type Thing is not JSON serializable. Please verify your flow output and make sure the value
    # serializable." and exited 1.
    result = run_cli("flow", "test", "--flow", str(CONFORMANCE / "unserializable_output"))
    assert result.code == 1
    assert result.stdout == ""
    assert ("FlowOutputUnserializable: The output 'thing' for flow is incorrect. The output value is not JSON "
            "serializable. JSON dump failed: (TypeError) Object of type Thing is not JSON serializable. Please "
            "verify your flow output and make sure the value serializable.") in result.stderr
    assert "Traceback" not in result.stderr


def test_generator_feeding_the_chat_output_streams(tmp_path: Path) -> None:
    # promptflow streams a chat flow's answer (`PFClient.test` returns the generator itself); its
    # chunks joined are the recorded output. Flowline streams them to stderr as it does an LLM's tokens.
    streamed = run_cli("flow", "test", "--flow", str(CONFORMANCE / "chat_generator"), "--inputs", "question=hi")
    assert streamed.code == 0, streamed.stderr
    assert streamed.json() == {"answer": "hello brave new world "}
    assert "[stream] hello brave new world" in streamed.stderr
    events = tmp_path / "events.jsonl"
    run_cli("flow", "test", "--flow", str(CONFORMANCE / "chat_generator"), "--inputs", "question=hi",
            "--events", str(events))
    tokens = [e["message"] for e in map(json.loads, events.read_text().splitlines()) if e["type"] == "llm_token"]
    assert tokens == ["hello ", "brave ", "new ", "world "]
    quiet = run_cli("flow", "test", "--flow", str(CONFORMANCE / "chat_generator"), "--inputs", "question=hi",
                    "--no-stream")
    assert quiet.json() == {"answer": "hello brave new world "}
    assert "[stream]" not in quiet.stderr
