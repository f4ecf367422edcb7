"""`flowline.Client`, the Python SDK, against real flows: test, run, details, metrics, runs and errors.

conformance_sdk/expected.json was recorded from promptflow 1.18.5 by bench/pf_sdk_reference.py (the same
calls on conformance_batch's flows through ``promptflow.client.PFClient``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import flowline
import pytest
from conftest import SAMPLES, llm_flow, run_cli, write_flow

# promptflow's classes as `flowline exec` serves them (imported by their own names: this process keeps no stand-in).
from flowline.compat.promptflow.connections import CustomStrongTypeConnection
from flowline.compat.promptflow.contracts.types import Secret
from flowline.compat.promptflow.entities import OpenAIConnection, SerpConnection
from flowline.connections import Connection
from openai_server import FakeOpenAI

BATCH = Path(__file__).resolve().parent / "conformance_batch"
EXPECTED = json.loads((Path(__file__).resolve().parent / "conformance_sdk" / "expected.json").read_text())


def _flow(node: str, text: str) -> str:
    """A flow of one Python node ``node`` whose input ``text`` is ``text``."""
    return (f"inputs:\n  text:\n    type: string\noutputs:\n  out:\n    type: string\n"
            f"    reference: ${{{node}.output}}\nnodes:\n- name: {node}\n  type: python\n  source:\n"
            f"    type: code\n    path: {node}.py\n  inputs:\n    text: {text}\n")


def _tool(name: str, returns: str) -> str:
    return f"from flowline import tool\n\n\n@tool\ndef {name}(text: str) -> str:\n    return {returns}\n"


def _base(client: flowline.Client, **extra: Any) -> flowline.Run:
    return client.run(flow=BATCH / "classify", data=BATCH / "data.jsonl", column_mapping={"text": "${data.text}"},
                      name="sdk_base", **extra)


def test_test_run_details_and_metrics_answer_as_promptflow_does() -> None:
    client = flowline.Client()
    assert client.test(BATCH / "classify", inputs={"text": "hello world"}) == EXPECTED["test"]
    base = _base(client, display_name="base run", tags={"k": "v"})
    assert (base.status, base.lines_completed, base.lines_failed) == ("Completed", 4, 1)
    assert (base.display_name, base.tags) == ("base run", {"k": "v"})
    assert set(EXPECTED["run_properties_keys"]) <= set(base.properties)
    details = client.get_details(base)
    assert list(details.columns) == EXPECTED["details_columns"]
    assert json.loads(details.to_json(orient="records")) == EXPECTED["details_records"]
    evaluation = client.run(flow=BATCH / "evaluate", data=BATCH / "data.jsonl", run=base, name="sdk_eval",
                            column_mapping={"groundtruth": "${data.answer}", "prediction": "${run.outputs.category}"})
    assert client.get_metrics(evaluation) == EXPECTED["metrics"]
    assert list(client.get_details("sdk_eval").columns) == EXPECTED["eval_columns"]
    updated = client.runs.update(base, display_name="renamed", tags={"x": "y"})
    assert {"display_name": updated.display_name, "tags": updated.tags} == EXPECTED["updated"]


def test_sdk_runs_and_cli_runs_are_the_same_runs() -> None:
    client = flowline.Client()
    _base(client)
    shown = run_cli("run", "show", "--name", "sdk_base")
    assert shown.code == 0 and shown.json()["lines_failed"] == 1
    made = run_cli("run", "create", "--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"),
                   "--column-mapping", "text=${data.text}", "--name", "cli_run")
    assert made.code in (0, 1), made.stderr
    assert [r["name"] for r in run_cli("run", "list").json()] == ["cli_run", "sdk_base"]
    assert [r.name for r in client.runs.list()] == ["cli_run", "sdk_base"]
    assert client.get_details("cli_run", max_results=2)["inputs.line_number"].tolist() == [0, 1]


def test_details_without_pandas_are_a_list_of_the_same_rows() -> None:
    client = flowline.Client()
    _base(client)
    script = ("import sys, json; sys.modules['pandas'] = None\n"  # `import pandas` now fails, as without it
              "import flowline\n"
              "rows = flowline.Client().get_details('sdk_base', all_results=True)\n"
              "print(json.dumps([type(rows).__name__, rows]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    kind, rows = json.loads(done.stdout)
    assert kind == "list"
    assert [list(r) for r in rows] == [EXPECTED["details_columns"]] * 5
    assert rows == EXPECTED["details_records"]


def test_archive_restore_and_list_views() -> None:
    client = flowline.Client()
    _base(client)
    client.runs.archive("sdk_base")
    assert client.runs.list() == []
    assert [r.name for r in client.runs.list(archived_only=True)] == ["sdk_base"]
    assert [r.name for r in client.runs.list(list_view_type="ALL")] == ["sdk_base"]
    assert client.runs.get("sdk_base").archived is True
    client.runs.restore("sdk_base")
    assert [r.name for r in client.runs.list()] == ["sdk_base"]
    with pytest.raises(ValueError, match="Run 'nope' does not exist"):
        client.runs.get("nope")


def test_a_flow_with_errors_raises_flow_validation_error_with_positions(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "broken", {"flow.dag.yaml": _flow("shout", "${inputs.txt}"),
                                            "shout.py": _tool("shout", "text.upper()")})
    client = flowline.Client()
    with pytest.raises(flowline.FlowValidationError) as raised:
        client.test(flow, inputs={"text": "a"})
    problem = next(p for p in raised.value.problems if p.severity == "error")
    assert (Path(problem.file).name, problem.line, problem.code) == ("flow.dag.yaml", 15, "unknown-input")
    assert "flow.dag.yaml:15:20: error: Input 'text' of node 'shout' references unknown flow input 'txt'" \
        in str(raised.value)
    with pytest.raises(flowline.FlowValidationError):
        client.run(flow=flow, data=BATCH / "data.jsonl")
    assert client.flows.validate(SAMPLES / "hello") == []


def test_a_failed_test_raises_flow_run_error_with_the_node_and_the_user_line() -> None:
    with pytest.raises(flowline.FlowRunError) as raised:
        flowline.Client().test(BATCH / "classify", inputs={"text": "boom"})
    error = raised.value
    assert (error.node, error.type, error.message) == ("classify", "ValueError", "cannot classify 'boom'")
    assert (Path(error.file or "").name, error.line) == ("classify.py", 7)


def test_bad_requests_raise_type_and_value_errors_and_cloud_arguments_warn() -> None:
    client = flowline.Client()
    with pytest.raises(ValueError, match="no node 'nope'"):
        client.test(SAMPLES / "hello", node="nope")
    with pytest.raises(ValueError, match="No flow found at"):
        client.test("no/such/flow")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colum_mapping'"):
        client.run(flow=BATCH / "classify", data=BATCH / "data.jsonl", colum_mapping={})
    with pytest.raises(ValueError, match="already exists"):
        _base(client)
        _base(client)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client.test(SAMPLES / "hello", inputs={"name": "x"}, runtime="cloud") == {"greeting": "Hello, x!",
                                                                                            "length": 9}
    assert [str(w.message) for w in caught] == [
        "Client.test(): 'runtime' has no meaning for local runs and is ignored."]


def test_a_node_test_takes_the_values_of_what_the_node_reads() -> None:
    client = flowline.Client()
    assert client.test(SAMPLES / "hello", node="shout", inputs={"greet.output": " hi "}) == {"text": "hi", "length": 2}


def test_a_tool_edited_between_two_tests_is_loaded_afresh(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "edited", {"flow.dag.yaml": _flow("echo", "${inputs.text}"),
                                            "echo.py": _tool("echo", "text")})
    client = flowline.Client()
    assert client.test(flow, inputs={"text": "a"}) == {"out": "a"}
    (flow / "echo.py").write_text(_tool("echo", "text * 2"))
    assert client.test(flow, inputs={"text": "a"}) == {"out": "aa"}
    assert Path.cwd() != flow  # the caller's working directory is its own


def test_resume_and_visualize(tmp_path: Path) -> None:
    client = flowline.Client()
    base = _base(client)
    resumed = client.run(resume_from=base, name="sdk_resumed")
    assert (resumed.status, resumed.lines_total) == ("Completed", 5)
    report = client.visualize([base, "sdk_resumed"], html_path=tmp_path / "report.html")
    assert report == (tmp_path / "report.html").resolve() and "sdk_resumed" in report.read_text()


def test_a_samples_flow_tests_and_runs_the_variant_chosen_with_its_creation_time_and_duration() -> None:
    flow = SAMPLES / "dataset-defaults"  # node compose: variants plain (the default) and formal
    client = flowline.Client()
    assert client.test(flow, inputs={"name": "Ada"}) == {"message": "Hello, Ada!"}
    assert client.test(flow, inputs={"name": "Ada"}, variant="${compose.formal}") == {
        "message": "Hello, Ada. It is a pleasure to meet you."}
    before, started = datetime.now().astimezone(), time.monotonic()
    run = client.run(flow=flow, data=flow / "data.jsonl", column_mapping={"name": "${data.name}"},
                     variant="${compose.formal}")
    took = time.monotonic() - started
    assert (run.status, run.lines_completed, run.variant) == ("Completed", 3, "${compose.formal}")
    assert run.name.startswith("dataset_defaults_formal_")
    assert client.get_details(run)["outputs.message"].tolist() == [
        f"Hello, {name}. It is a pleasure to meet you." for name in ("Ada", "Grace", "Linus")]
    # promptflow 1.18.5's Run.created_on is a str, ISO 8601 with the UTC offset (`_created_on.isoformat()` of
    # `datetime.now().astimezone()`); the duration, in seconds, is also system_metrics' own.
    assert isinstance(run.created_on, str)
    assert before <= datetime.fromisoformat(run.created_on) <= datetime.now().astimezone()
    assert run.duration is not None and 0 < run.duration < took
    assert run.properties["system_metrics"]["duration"] == run.duration


def test_a_samples_flow_run_is_evaluated_by_a_samples_flow_then_detailed_measured_and_visualized(
        tmp_path: Path) -> None:
    client = flowline.Client()
    flow = SAMPLES / "dataset-defaults"
    base = client.run(flow=flow, data=flow / "data.jsonl", column_mapping={"name": "${data.name}"}, name="greetings")
    assert client.get_details(base)[["inputs.name", "outputs.message"]].values.tolist() == [
        ["Ada", "Hello, Ada!"], ["Grace", "Hello, Grace!"], ["Linus", "Hello, Linus!"]]
    evaluation = client.run(flow=SAMPLES / "eval-accuracy", run=base, name="graded",
                            column_mapping={"groundtruth": "${run.outputs.message}", "prediction": "Hello, Ada!"})
    assert (evaluation.status, evaluation.run) == ("Completed", "greetings")
    assert client.get_details(evaluation)["outputs.grade"].tolist() == ["Correct", "Incorrect", "Incorrect"]
    assert client.get_metrics(evaluation) == {"accuracy": 0.33} and client.get_metrics(base) == {}
    report = client.visualize([base, evaluation], html_path=tmp_path / "report.html").read_text()
    assert "greetings" in report and "graded" in report and "accuracy" in report


def test_environment_variables_reach_the_tools_of_a_test_and_a_run_only(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "env", {"flow.dag.yaml": _flow("env", "${inputs.text}"), "env.py": (
        "import os\n\n" + _tool("env", "text + os.environ.get('FLOWLINE_SDK_GREETING', ' unset')"))})
    client = flowline.Client()
    given = {"FLOWLINE_SDK_GREETING": " set"}
    assert client.test(flow, inputs={"text": "a"}, environment_variables=given) == {"out": "a set"}
    assert client.test(flow, inputs={"text": "a"}) == {"out": "a unset"}
    (tmp_path / "d.jsonl").write_text('{"text": "b"}\n')
    run = client.run(flow=flow, data=tmp_path / "d.jsonl", environment_variables=given)
    assert client.get_details(run)["outputs.out"].tolist() == ["b set"]
    assert "FLOWLINE_SDK_GREETING" not in os.environ  # the caller's environment stays its own


def test_import_flowline_loads_neither_the_sdk_nor_a_heavy_package() -> None:
    """The budget of docs/PERFORMANCE.md (`import flowline` under 30 ms of Flowline's own modules, about 9 ms
    idle) kept loosely: timed, it read 17-29 ms with three busy processes on two cores, so what is checked is
    what would break it, a heavy package imported at the top."""
    heavy = ["openai", "jinja2", "yaml", "ray", "pandas", "starlette", "uvicorn", "pydantic"]
    script = (f"import sys, flowline\nloaded = {{m.partition('.')[0] for m in sys.modules}}\n"
              f"print(sorted(loaded & {set(heavy)!r}), any(m.startswith('flowline.client') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] False"


def test_a_promptflow_script_runs_unchanged_with_flowline_exec_and_prints_what_promptflow_prints() -> None:
    """conformance_sdk/script/expected.txt: the RESULT lines script.py printed when run with promptflow 1.18.5
    (``HOME=$(mktemp -d) PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true ~/.cache/flowline/pf-venv/bin/python
    tests/server/conformance_sdk/script/script.py | grep RESULT``)."""
    folder = Path(__file__).resolve().parent / "conformance_sdk" / "script"
    done = run_cli("exec", str(folder / "script.py"))
    assert done.code == 0, done.stderr
    printed = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert printed == (folder / "expected.txt").read_text().splitlines()
    # The stand-in is this command's alone: plain Python still has no `promptflow`.
    plain = subprocess.run([sys.executable, "-c", "import promptflow"], capture_output=True, text=True)
    assert plain.returncode == 1 and "No module named 'promptflow'" in plain.stderr


def test_a_script_importing_pfclient_and_entities_from_promptflow_runs_with_exec_and_cloud_arguments_warn(
        tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("""import sys
import warnings

from promptflow import PFClient
from promptflow.entities import AzureOpenAIConnection, CustomConnection, OpenAIConnection, Run

flow = sys.argv[1]
pf = PFClient()
for made in (OpenAIConnection(name="open_ai", api_key="sk-1", base_url="https://a.test/v1"),
             AzureOpenAIConnection(name="azure", api_key="sk-2", api_base="https://b.test"),
             CustomConnection(name="custom", configs={"a": "1"}, secrets={"k": "sk-3"})):
    pf.connections.create_or_update(made)
print([(type(c).__name__, c.name) for c in pf.connections.list()])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    run = pf.run(flow=flow, data=flow + "/data.jsonl", column_mapping={"name": "${data.name}"},
                 runtime="automatic", resources={"instance_type": "Standard_D2"})
print(isinstance(run, Run), run.status)
for warning in caught:
    print(warning.category.__name__, warning.message)
""")
    done = run_cli("exec", str(script), str(SAMPLES / "dataset-defaults"))
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[('AzureOpenAIConnection', 'azure'), ('CustomConnection', 'custom'), ('OpenAIConnection', 'open_ai')]",
        "True Completed",
        "UserWarning Client.run(): 'runtime' has no meaning for local runs and is ignored.",
        "UserWarning Client.run(): 'resources' has no meaning for local runs and is ignored."]


def test_exec_passes_arguments_and_exit_codes_and_refuses_a_missing_script(tmp_path: Path) -> None:
    script = tmp_path / "args.py"
    script.write_text("import sys\nprint(sys.argv[1:], __name__)\nsys.exit(3)\n")
    done = run_cli("exec", str(script), "--flag", "x")
    assert (done.code, done.stdout) == (3, "['--flag', 'x'] __main__\n")
    missing = run_cli("exec", str(tmp_path / "nope.py"))
    assert (missing.code, missing.stderr) == (2, f"flowline: error: exec: no script at '{tmp_path / 'nope.py'}'.\n")


def test_connections_round_trip_with_secrets_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    # promptflow.entities as `flowline exec` serves it (imported by its own name: this process keeps no stand-in).
    from flowline.compat.promptflow.entities import AzureOpenAIConnection, CustomConnection

    client = flowline.Client()
    made = AzureOpenAIConnection(name="azure", api_key="sk-very-secret", api_base="https://example.test",
                                 api_version="2024-02-01")
    stored = client.connections.create_or_update(made)
    client.connections.create_or_update(CustomConnection(name="custom", configs={"a": "1"}, secrets={"k": "s3cr3t"}))
    assert [c.name for c in client.connections.list()] == ["azure", "custom"]
    assert stored.secrets == {"api_key": "******"} and stored.configs["api_base"] == "https://example.test"
    assert client.connections.get("azure", with_secrets=True).secrets == {"api_key": "sk-very-secret"}
    read = client.connections.get("azure")  # masked; changed and saved back, the secret stays
    read.configs["api_base"] = "https://other.test"
    client.connections.create_or_update(read)
    assert client.connections.get("azure", with_secrets=True).secrets == {"api_key": "sk-very-secret"}
    assert read.secrets == {"api_key": "******"}  # the caller's object keeps the mask
    print(made, stored, read, client.connections.list(), client)
    client.connections.delete("custom")
    with pytest.raises(ValueError, match="Connection 'custom' does not exist"):
        client.connections.get("custom")
    printed = capsys.readouterr()
    assert "sk-very-secret" not in printed.out + printed.err and "s3cr3t" not in printed.out + printed.err


class SearchConnection(CustomStrongTypeConnection):
    """A tool package's own connection type."""

    api_key: Secret
    endpoint: str = "https://search.test"


_STRONG = {"promptflow.connection.custom_type": "SearchConnection", "promptflow.connection.module": __name__}


@pytest.mark.parametrize(("make", "kind", "fields"), [
    (lambda key, at: OpenAIConnection(name="conn", api_key=key, base_url=at),
     "OpenAIConnection", lambda at: {"organization": None, "base_url": at, "api_key": "******"}),
    (lambda key, at: SerpConnection(name="conn", api_key=key),
     "SerpConnection", lambda at: {"api_key": "******"}),
    (lambda key, at: SearchConnection(name="conn", secrets={"api_key": key}, configs={"endpoint": at}),
     "CustomConnection", lambda at: {"endpoint": at, **_STRONG, "api_key": "******"}),
], ids=["open_ai", "serp", "custom_strong_type"])
def test_openai_serp_and_strong_typed_connections_round_trip_with_masked_secrets_kept(
        make: Callable[[str, str], Connection], kind: str, fields: Callable[[str], dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    """``kind`` and ``fields`` (``dict(connection)``) are what promptflow 1.18.5 gave for ``connections.get(name,
    with_secrets=False)`` after ``create_or_update`` of the same connections (a script run with ``HOME=$(mktemp
    -d) PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true ~/.cache/flowline/pf-venv/bin/python``; its
    ``SearchConnection`` subclassed ``promptflow._sdk.entities.CustomStrongTypeConnection``, and the module it
    recorded was the script's, ``__main__``). There, a strong-typed connection is stored as a custom one whose
    configs name its class. Flowline also takes two things promptflow 1.18.5 refuses: ``promptflow.connections``'
    class, the one tool packages subclass (a ``TypeError`` there), and a new object whose secret reads ``******``
    (a ``ValidationException`` there; here the stored secret is kept)."""
    client = flowline.Client()
    made = make("sk-very-secret", "https://a.test")
    stored = client.connections.create_or_update(made)
    assert (type(stored).__name__, dict(stored)) == (kind, fields("https://a.test"))
    assert [(c.name, type(c).__name__, dict(c)) for c in client.connections.list()] == [
        ("conn", kind, fields("https://a.test"))]
    assert dict(client.connections.get("conn")) == fields("https://a.test")
    assert client.connections.get("conn", with_secrets=True).secrets == {"api_key": "sk-very-secret"}
    again = make("******", "https://b.test")  # a secret left masked keeps the stored one
    assert dict(client.connections.create_or_update(again)) == fields("https://b.test")
    assert client.connections.get("conn", with_secrets=True).secrets == {"api_key": "sk-very-secret"}
    assert again.secrets == {"api_key": "******"} and made.secrets == {"api_key": "sk-very-secret"}
    print(made, stored, again, client.connections.list(), client.connections.get("conn", with_secrets=True))
    client.connections.delete("conn")
    assert client.connections.list() == []
    with pytest.raises(flowline.ConnectionNotFoundError, match="Connection 'conn' does not exist"):
        client.connections.get("conn")
    printed = capsys.readouterr()
    assert "sk-very-secret" not in printed.out + printed.err


def test_streamed_outputs_are_iterators_with_stream_and_whole_without(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "words", {"flow.dag.yaml": _flow("words", "${inputs.text}"), "words.py": (
        "from flowline import tool\n\n\n@tool\ndef words(text: str):\n    for word in text.split():\n"
        "        yield word + ' '\n")})
    client = flowline.Client()
    streamed = client.test(flow, inputs={"text": "one two three"}, stream=True)
    assert not isinstance(streamed["out"], str)
    assert list(streamed["out"]) == ["one ", "two ", "three "]
    assert client.test(flow, inputs={"text": "one two three"}) == {"out": "one two three "}


def test_run_stream_prints_the_progress_and_stream_prints_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    client = flowline.Client()
    base = _base(client, stream=True)
    progress = capsys.readouterr().out
    assert "run 'sdk_base': Completed, 4 completed, 1 failed of 5 lines" in progress
    client.stream(base)
    log = capsys.readouterr().out
    assert "line 2 Failed: ValueError: cannot classify 'boom'" in log
    assert log.endswith("Run 'sdk_base': Completed, 4 completed, 1 failed of 5 lines\n")


def test_an_llm_flow_streams_its_answer_and_runs_over_data_with_a_connection_override(
        server: FakeOpenAI, flow_dir: Path, tmp_path: Path) -> None:
    """Against the local OpenAI-compatible server (tests/server/openai_server.py), through the real `openai` client."""
    llm_flow(flow_dir, "user:\n{{ question }}\n", connection="missing")
    client = flowline.Client()
    # A connection this machine lacks is a warning when validating, and a refused request when running.
    with pytest.raises(ValueError, match="Connection 'missing' does not exist"):
        client.test(flow_dir, inputs={"question": "one two"})
    llm_flow(flow_dir, "user:\n{{ question }}\n")
    answer = client.test(flow_dir, inputs={"question": "one two three"}, stream=True)["answer"]
    assert list(answer) == ["echo:", " one", " two", " three"]
    data = tmp_path / "questions.jsonl"
    data.write_text('{"q": "first"}\n{"q": "second"}\n')
    run = client.run(flow=flow_dir, data=data, column_mapping={"question": "${data.q}"},
                     connections={"ask": {"connection": "test"}}, environment_variables={"UNUSED": "1"})
    assert (run.status, run.lines_completed) == ("Completed", 2)
    assert client.get_details(run)["outputs.answer"].tolist() == ["echo: first", "echo: second"]
    assert server.api_key not in json.dumps(run.properties) + str(run)


def test_a_tool_that_ends_the_process_names_its_node_and_a_run_of_it_is_returned_failed(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "exits", {"flow.dag.yaml": _flow("quit", "${inputs.text}"),
                                           "quit.py": "import os\n\n" + _tool("quit", "os._exit(4)")})
    client = flowline.Client()
    with pytest.raises(flowline.FlowRunError) as raised:
        client.test(flow, inputs={"text": "a"})
    assert (raised.value.node, raised.value.type) == ("quit", "ProcessCrashError")
    assert "exited with code 4 while node 'quit' ran" in raised.value.message
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n')
    run = client.run(flow=flow, data=tmp_path / "d.jsonl")  # stored Failed with the reason, not an exception
    assert run.status == "Failed" and "os._exit(4)" in (run.reason or "")
    assert run.name.startswith("exits_variant_0_")


def test_mistakes_raise_user_errors_in_the_sdks_words_and_unknown_inputs_warn(tmp_path: Path) -> None:
    client = flowline.Client()
    with pytest.warns(UserWarning, match=r"inputs\['nam'\]: the flow has no input 'nam'"):
        client.test(SAMPLES / "hello", inputs={"nam": "x"})
    _base(client)
    with pytest.raises(flowline.RequestError, match=r"choose another name\b") as taken:
        _base(client)
    assert isinstance(taken.value, flowline.UserError) and "--" not in str(taken.value)
    with pytest.raises(flowline.RunNotFoundError):
        client.runs.get("no_such_run")
    with pytest.raises(flowline.RequestError, match="has no node 'zzz'"):
        client.flows.validate(SAMPLES / "hello", node="zzz")
    for call, message in [(lambda: client.test(SAMPLES / "hello", inputs=["a"]), "inputs must be a dict, not list"),
                          (lambda: _base(client, tags=["a"]), "tags must be a dict, not list"),
                          (lambda: client.connections.create_or_update({"name": "x"}), "takes a connection")]:
        with pytest.raises(TypeError, match=message):
            call()
    assert client.runs.list(max_results=0) == []
    assert [r.name for r in client.runs.list(max_results=1)] == ["sdk_base"]


def test_exec_serves_promptflows_exception_classes_for_scripts_to_catch(tmp_path: Path) -> None:
    script = tmp_path / "catch.py"
    script.write_text("from promptflow.client import PFClient\nfrom promptflow.exceptions import UserErrorException\n"
                      "from promptflow._sdk._errors import ConnectionNotFoundError\n"
                      "try:\n    PFClient().connections.get('nope')\nexcept UserErrorException as error:\n"
                      "    print(type(error).__name__, isinstance(error, ConnectionNotFoundError))\n")
    done = run_cli("exec", str(script))
    assert (done.code, done.stdout) == (0, "ConnectionNotFoundError True\n"), done.stderr


def test_details_put_the_inputs_that_took_their_default_after_the_line_number(tmp_path: Path) -> None:
    """Observed with promptflow 1.18.5 (`get_details` of a flow with inputs a, b, c; c with a default; mapping
    {b: ${data.y}, a: ${data.x}}): inputs.a, inputs.b, inputs.line_number, inputs.c, outputs.o."""
    flow = write_flow(tmp_path / "abc", {"flow.dag.yaml": """
        inputs:
          a: {type: string}
          b: {type: string}
          c: {type: string, default: cc}
        outputs:
          o:
            type: string
            reference: ${n.output}
        nodes:
        - name: n
          type: python
          source: {type: code, path: n.py}
          inputs:
            a: ${inputs.a}
            b: ${inputs.b}
            c: ${inputs.c}
        """, "n.py": """
        from flowline import tool


        @tool
        def n(a: str, b: str, c: str) -> str:
            return a + b + c
        """})
    (tmp_path / "d.jsonl").write_text('{"x": "1", "y": "2"}\n')
    client = flowline.Client()
    run = client.run(flow=flow, data=tmp_path / "d.jsonl", column_mapping={"b": "${data.y}", "a": "${data.x}"})
    assert list(client.get_details(run).columns) == ["inputs.a", "inputs.b", "inputs.line_number", "inputs.c",
                                                     "outputs.o"]
