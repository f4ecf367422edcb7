"""Batch runs and evaluation through the real `flowline run ...` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import LEAKY_FLOW, SAMPLES, one_node_flow, run_cli, write_flow

BATCH = Path(__file__).resolve().parent / "conformance_batch"


def create(*args: str) -> dict[str, Any]:
    result = run_cli("run", "create", *args)
    assert result.code == 0, result.stderr
    record: dict[str, Any] = result.json()
    return record


def details(name: str) -> dict[int, dict[str, Any]]:
    result = run_cli("run", "show-details", "--name", name, "--json")
    assert result.code == 0, result.stderr
    return {row["line_number"]: row for row in result.json()}


def test_evaluation_over_a_run_with_a_failed_line_matches_promptflow() -> None:
    """expected.json was recorded from promptflow 1.18.5 by bench/pf_batch_reference.py."""
    expected = json.loads((BATCH / "expected.json").read_text())
    base = create("--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"),
                  "--column-mapping", "text=${data.text}", "--name", "base")
    assert (base["status"], base["lines_completed"], base["lines_failed"]) == ("Completed", 4, 1)
    rows = details("base")
    for number, want in expected["classify"].items():
        row = rows[int(number)]
        if want["category"] == "(Failed)":
            assert row["status"] == "Failed"
            assert row["error"]["type"] == "ValueError" and row["error"]["message"] == "cannot classify 'boom'"
        else:
            assert row["outputs"] == {"category": want["category"], "length": int(want["length"])}
    evaluation = create("--flow", str(BATCH / "evaluate"), "--data", str(BATCH / "data.jsonl"), "--run", "base",
                        "--column-mapping", "groundtruth=${data.answer}", "prediction=${run.outputs.category}",
                        "--name", "eval")
    assert evaluation["parent_run"] == "base"
    graded = details("eval")
    assert {str(n): row["outputs"] for n, row in graded.items()} == expected["evaluate"]
    metrics = run_cli("run", "show-metrics", "--name", "eval")
    assert metrics.json() == expected["metrics"] == {"accuracy": 0.75, "graded": 4}


def test_every_mapping_form(tmp_path: Path, flow_dir: Path) -> None:
    write_flow(flow_dir, {"echo.py": "from flowline import tool\n\n@tool\ndef echo(**values) -> dict:\n"
                                     "    return values\n", "flow.dag.yaml": """
        inputs:
          from_data: {type: string}
          same_name: {type: string}
          literal: {type: string}
          with_default: {type: string, default: kept}
          from_outputs: {type: string}
          from_inputs: {type: string}
        outputs:
          seen: {reference: "${echo.output}"}
        nodes:
        - name: echo
          type: python
          source: {type: code, path: echo.py}
          inputs:
            from_data: ${inputs.from_data}
            same_name: ${inputs.same_name}
            literal: ${inputs.literal}
            with_default: ${inputs.with_default}
            from_outputs: ${inputs.from_outputs}
            from_inputs: ${inputs.from_inputs}
    """})
    data = tmp_path / "data.csv"
    data.write_text("col,same_name,with_default\na,s0,ignored\nb,s1,ignored\n")
    first = create("--flow", str(flow_dir), "--data", str(data), "--name", "first", "--column-mapping",
                   "from_data=${data.col}", "literal=fixed", "from_outputs=x", "from_inputs=y")
    assert first["lines_completed"] == 2
    assert details("first")[1]["outputs"]["seen"] == {
        "from_data": "b", "same_name": "s1", "literal": "fixed", "with_default": "kept",
        "from_outputs": "x", "from_inputs": "y"}
    second = create("--flow", str(flow_dir), "--data", str(data), "--run", "first", "--name", "second",
                    "--column-mapping", "from_data=${data.col}", "literal=L",
                    "from_outputs=${run.outputs.seen}", "from_inputs=${run.inputs.from_data}")
    assert second["lines_completed"] == 2
    seen = details("second")[0]["outputs"]["seen"]
    assert seen["from_inputs"] == "a"
    assert json.loads(seen["from_outputs"].replace("'", '"'))["from_data"] == "a"


def test_bad_mapping_is_one_clear_error_before_any_line(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"nam": "x"}\n')
    result = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(data),
                     "--column-mapping", "name=${data.name}", "--name", "bad")
    assert result.code == 2
    assert "Column mapping name=${data.name} matches no column (line 0 has data: nam)" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli("run", "show", "--name", "bad").code == 2


def test_failing_and_timed_out_lines_are_isolated(tmp_path: Path, flow_dir: Path) -> None:
    write_flow(flow_dir, {"work.py": '''
        import time

        from flowline import tool


        @tool
        def work(seconds: float) -> float:
            if seconds < 0:
                raise RuntimeError("negative")
            time.sleep(seconds)
            return seconds
    ''', "flow.dag.yaml": """
        inputs:
          seconds: {type: double}
        outputs:
          slept: {reference: "${work.output}"}
        nodes:
        - name: work
          type: python
          source: {type: code, path: work.py}
          inputs: {seconds: "${inputs.seconds}"}
    """})
    data = tmp_path / "d.json"
    data.write_text(json.dumps([{"seconds": 0}, {"seconds": -1}, {"seconds": 5}, {"seconds": 0.01}]))
    record = create("--flow", str(flow_dir), "--data", str(data), "--line-timeout", "0.5", "--name", "iso")
    assert (record["lines_completed"], record["lines_failed"]) == (2, 2)
    rows = details("iso")
    assert rows[1]["error"]["type"] == "RuntimeError" and rows[1]["error"]["message"] == "negative"
    assert rows[2]["error"] == {"type": "LineExecutionTimeoutError",
                                "message": "Line 2 execution timeout for exceeding 0.5 seconds: node 'work' was "
                                           "still running."}
    assert rows[0]["outputs"] == {"slept": 0.0} and rows[3]["outputs"] == {"slept": 0.01}
    table = run_cli("run", "show-details", "--name", "iso").stdout
    assert "LineExecutionTimeoutError: Line 2 execution timeout" in table
    assert table.splitlines()[0].split() == ["line", "status", "inputs.seconds", "outputs.slept", "error"]


def test_run_yaml_and_data_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"who": "Ada"}\n')
    (folder / "b.tsv").write_text("who\nBob\n")
    run_file = tmp_path / "run.yml"
    run_file.write_text(f"flow: {SAMPLES / 'hello'}\ndata: data\nname: from_yaml\ncolumn_mapping:\n"
                        "  name: ${data.who}\n  excited: true\n")
    result = run_cli("run", "create", "-f", str(run_file))
    assert result.code == 0, result.stderr
    rows = details("from_yaml")
    assert [rows[n]["outputs"]["greeting"] for n in (0, 1)] == ["HELLO, ADA!", "HELLO, BOB!"]


def test_list_show_delete(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"name": "x"}\n')
    for name in ("one", "two"):
        create("--flow", str(SAMPLES / "hello"), "--data", str(data), "--name", name)
    listed = run_cli("run", "list").json()
    assert [r["name"] for r in listed] == ["two", "one"] or {r["name"] for r in listed} == {"one", "two"}
    assert run_cli("run", "list", "--max-results", "1").json().__len__() == 1
    shown = run_cli("run", "show", "--name", "one").json()
    folder = Path(shown["folder"])
    for relative in ("meta.json", "inputs.jsonl", "flow_outputs/output.jsonl", "flow_artifacts/lines.jsonl",
                     "node_artifacts/shout.jsonl", "metrics.json", "snapshot/flow.dag.yaml"):
        assert (folder / relative).is_file(), relative
    assert run_cli("run", "delete", "--name", "one").code == 0
    assert not folder.exists()
    assert run_cli("run", "show", "--name", "one").code == 2


def test_interrupted_run_resumes_without_rerunning_lines(tmp_path: Path, flow_dir: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    write_flow(flow_dir, {"slow.py": f'''
        import os
        import time
        from pathlib import Path

        from flowline import tool


        @tool
        def slow(n: int) -> int:
            time.sleep(0.05)
            Path({str(marks)!r}, f"{{n}}-{{os.getpid()}}").touch()
            return n * 10
    ''', "flow.dag.yaml": """
        inputs:
          n: {type: int}
        outputs:
          value: {reference: "${slow.output}"}
        nodes:
        - name: slow
          type: python
          source: {type: code, path: slow.py}
          inputs: {n: "${inputs.n}"}
    """})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(60)))
    process = subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--flow", str(flow_dir),
                                "--data", str(data), "--workers", "2", "--name", "first"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    lines_file = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "first" / "flow_artifacts" / "lines.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not lines_file.exists() or len(lines_file.read_text().splitlines()) < 10):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    recorded = {json.loads(line)["line_number"] for line in lines_file.read_text().splitlines()}
    assert 10 <= len(recorded) < 60
    first_pid = process.pid
    resumed = create("--flow", str(flow_dir), "--data", str(data), "--resume-from", "first", "--name", "second")
    assert (resumed["lines_completed"], resumed["lines_failed"], resumed["lines_total"]) == (60, 0, 60)
    rows = details("second")
    assert sorted(rows) == list(range(60))
    assert all(rows[n]["outputs"] == {"value": n * 10} for n in range(60))
    rerun = {int(p.name.split("-")[0]) for p in marks.iterdir() if not p.name.endswith(f"-{first_pid}")}
    assert not rerun & recorded, "a line completed before the kill ran again"
    assert rerun | recorded == set(range(60))


def test_visualize_writes_an_offline_report(tmp_path: Path) -> None:
    create("--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"), "--name", "b1")
    create("--flow", str(BATCH / "evaluate"), "--data", str(BATCH / "data.jsonl"), "--run", "b1", "--name", "e1",
           "--column-mapping", "groundtruth=${data.answer}", "prediction=${run.outputs.category}")
    create("--flow", str(BATCH / "evaluate"), "--data", str(BATCH / "data.jsonl"), "--run", "b1", "--name", "e2",
           "--column-mapping", "groundtruth=word", "prediction=${run.outputs.category}")
    result = run_cli("run", "visualize", "--names", "e1,e2", "--html-path", str(tmp_path / "report.html"))
    assert result.code == 0, result.stderr
    report = Path(result.stdout.strip())
    page = report.read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is needed to look at the report (make test installs it)")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                          "--no-first-run", "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom",
                          report.as_uri()], capture_output=True, text=True, timeout=120)
    assert "accuracy" in dom.stdout and "0.75" in dom.stdout and "0.5" in dom.stdout
    assert dom.stdout.count("class=\"diff\"") >= 2
    assert "cannot classify" not in dom.stdout
    assert "e1<br>outputs.grade" in dom.stdout


def test_worker_processes_share_the_lines_and_aggregate_once(tmp_path: Path, flow_dir: Path) -> None:
    write_flow(flow_dir, {"pid.py": "import os\nfrom flowline import tool\n\n@tool\ndef pid(n: int) -> dict:\n"
                                    "    return {'n': n, 'pid': os.getpid()}\n",
                          "total.py": "from flowline import log_metric, tool\n\n@tool\ndef total(ns: list) -> int:\n"
                                      "    log_metric('sum', sum(ns))\n    return sum(ns)\n",
                          "flow.dag.yaml": """
        inputs:
          n: {type: int}
        outputs:
          out: {reference: "${pid.output}"}
        nodes:
        - name: pid
          type: python
          source: {type: code, path: pid.py}
          inputs: {n: "${inputs.n}"}
        - name: total
          type: python
          source: {type: code, path: total.py}
          inputs: {ns: "${pid.output.n}"}
          aggregation: true
    """})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(200)))
    record = create("--flow", str(flow_dir), "--data", str(data), "--worker-processes", "2", "--name", "procs")
    assert (record["lines_completed"], record["lines_failed"]) == (200, 0)
    rows = details("procs")
    assert sorted(rows) == list(range(200))
    assert len({row["outputs"]["out"]["pid"] for row in rows.values()}) == 2
    assert run_cli("run", "show-metrics", "--name", "procs").json() == {"sum": sum(range(200))}


def test_ctrl_c_stops_cleanly_and_the_run_resumes(tmp_path: Path, flow_dir: Path) -> None:
    write_flow(flow_dir, {"nap.py": "import time\nfrom flowline import tool\n\n@tool\ndef nap(n: int) -> int:\n"
                                    "    time.sleep(0.05)\n    return n\n",
                          "flow.dag.yaml": "inputs:\n  n: {type: int}\noutputs:\n  n: {reference: '${nap.output}'}\n"
                                           "nodes:\n- name: nap\n  type: python\n  source: {type: code, path: nap.py}\n"
                                           "  inputs: {n: '${inputs.n}'}\n"})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(200)))
    process = subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--flow", str(flow_dir),
                                "--data", str(data), "--workers", "2", "--name", "stopped"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines_file = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "stopped" / "flow_artifacts" / "lines.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not lines_file.exists() or len(lines_file.read_text().splitlines()) < 6):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "completed lines are kept" in stderr and "Traceback" not in stderr
    shown = run_cli("run", "show", "--name", "stopped").json()
    assert shown["status"] == "Canceled" and 0 < shown["lines_completed"] < 200
    resumed = create("--flow", str(flow_dir), "--data", str(data), "--resume-from", "stopped", "--name", "again")
    assert resumed["lines_completed"] == 200


def test_environment_variables_and_connection_overrides(tmp_path: Path, flow_dir: Path) -> None:
    from conftest import create_connection

    create_connection(tmp_path, "name: first\ntype: custom\nconfigs: {label: one}\nsecrets: {k: s}\n")
    create_connection(tmp_path, "name: second\ntype: custom\nconfigs: {label: two}\nsecrets: {k: s}\n")
    write_flow(flow_dir, {"env.py": '''
        import os

        from flowline import tool
        from flowline.connections import CustomConnection


        @tool
        def env(conn: CustomConnection) -> str:
            return os.environ.get("RUN_MODE", "unset") + "/" + conn.label
    ''', "flow.dag.yaml": "outputs:\n  o: {reference: '${env.output}'}\nnodes:\n- name: env\n  type: python\n"
                          "  source: {type: code, path: env.py}\n  inputs: {conn: first}\n"})
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    create("--flow", str(flow_dir), "--data", str(data), "--name", "plain")
    create("--flow", str(flow_dir), "--data", str(data), "--name", "overridden",
           "--environment-variables", "RUN_MODE=fast", "--connections", "env.conn=second")
    assert details("plain")[0]["outputs"] == {"o": "unset/one"}
    assert details("overridden")[0]["outputs"] == {"o": "fast/two"}


class _Table(HTMLParser):
    """The rows of the report's "Lines" table as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_lines = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self._in_lines:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_lines:
            self.rows[-1].append("")
            self._in_cell = True
        elif tag == "br" and self._in_cell:
            self.rows[-1][-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False
        elif tag == "table":
            self._in_lines = False

    def handle_data(self, data: str) -> None:
        if data == "Lines":
            self._in_lines = True
        elif self._in_cell:
            self.rows[-1][-1] += data


def test_the_report_shows_each_runs_own_inputs(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"text": "App"}\n{"text": "hello"}\n')
    create("--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"), "--name", "v0")
    create("--flow", str(BATCH / "classify"), "--data", str(other), "--name", "v1")
    result = run_cli("run", "visualize", "--names", "v0,v1", "--html-path", str(tmp_path / "report.html"))
    assert result.code == 0, result.stderr
    table = _Table()
    table.feed(Path(result.stdout.strip()).read_text())
    header, first, second, third = table.rows[:4]
    assert header[:3] == ["line", "v0 inputs.text", "v1 inputs.text"]
    assert first[:3] == ["0", "42", "App"] and second[:3] == ["1", "hello", "hello"]
    assert third[:3] == ["2", "boom", ""]  # v1 has no line 2
    # One run alone: its name is the report's, not every column's.
    result = run_cli("run", "visualize", "--names", "v1", "--html-path", str(tmp_path / "one.html"))
    table = _Table()
    table.feed(Path(result.stdout.strip()).read_text())
    assert table.rows[0][:2] == ["line", "inputs.text"]



ONE_NODE_FLOW = one_node_flow()


def _text_data(tmp_path: Path, *texts: str) -> Path:
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return data


def test_a_line_whose_tool_calls_sys_exit_fails_and_the_others_go_on(tmp_path: Path, flow_dir: Path) -> None:
    """It used to end `run create` with exit 0, "Task exception was never retrieved", no record, and
    the run Running for ever."""
    write_flow(flow_dir, {"t.py": "import sys\nfrom flowline import tool\n\n@tool\ndef t(text: str) -> str:\n"
                                  "    if text == 'b':\n        sys.exit(0)\n    return text\n",
                          "flow.dag.yaml": ONE_NODE_FLOW})
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(_text_data(tmp_path, "a", "b", "c")),
                     "--name", "exits")
    assert result.code == 0, result.stderr
    assert "Task exception" not in result.stderr and "Traceback" not in result.stderr
    record = result.json()
    assert (record["status"], record["lines_completed"], record["lines_failed"]) == ("Completed", 2, 1)
    rows = details("exits")
    assert rows[0]["outputs"] == {"out": "a"} and rows[2]["outputs"] == {"out": "c"}
    error = rows[1]["error"]
    assert error["type"] == "SystemExit" and error["node"] == "t"
    assert error["message"] == ("Tool 't' called sys.exit(0); a tool returns a value or raises an exception — "
                                "remove the sys.exit call.")
    assert (Path(error["file"]), error["line"]) == ((flow_dir / "t.py").resolve(), 7)
    assert run_cli("run", "show", "--name", "exits").json()["status"] == "Completed"


@pytest.mark.parametrize("module_code,message", [
    ("import sys\nsys.exit(3)\n", "SystemExit: t.py called sys.exit(3) while being imported; a tool file defines "
                                  "its @tool function and must not end the process"),
    ("raise ValueError('boom')\n", "ValueError: boom"),
    ("def f(x: Undefined) -> None:\n    pass\n", "NameError: name 'Undefined' is not defined"),
    ("import no_such_module_here\n", "ModuleNotFoundError: No module named 'no_such_module_here'"),
])
def test_a_tool_that_cannot_load_stores_the_run_as_failed_with_one_line(
        tmp_path: Path, flow_dir: Path, module_code: str, message: str) -> None:
    """sys.exit(3) at import used to end `run create` with exit 3 and nothing printed; an exception at
    import with a traceback; then with one line and no stored run. promptflow 1.18.5 (`pf run create`,
    run by hand) prints "pf.run.create failed with PythonLoadError: Failed to load python module from
    file '.../t.py': (NameError) name 'Undefined' is not defined", exits 1 and stores no run
    (`pf run show` says RunNotFoundError); Flowline stores it Failed with the reason (ARCHITECTURE §10)."""
    write_flow(flow_dir, {"t.py": f"from flowline import tool\n{module_code}\n@tool\ndef t(text: str) -> str:\n"
                                  "    return text\n", "flow.dag.yaml": ONE_NODE_FLOW})
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(_text_data(tmp_path, "a")),
                     "--name", "broken")
    reason = (f"Node 't' could not load its tool: {message}" if "sys.exit" in message else
              f"Node 't' could not load its tool: {message} ({(flow_dir / 't.py').resolve()}:2)")
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert reason in result.stderr.splitlines()[-1]
    assert f"({(flow_dir / 't.py').resolve()}:{2 if 'sys.exit' not in message else 3})" in result.stderr
    record = result.json()
    assert (record["name"], record["status"], record["lines_completed"], record["lines_failed"]) == \
        ("broken", "Failed", 0, 0)
    assert record["reason"].startswith(reason)
    shown = run_cli("run", "show", "--name", "broken").json()
    assert shown["status"] == "Failed" and shown["reason"] == record["reason"]
    assert [r["name"] for r in run_cli("run", "list").json()] == ["broken"]


def test_a_run_whose_process_was_killed_reads_as_failed_with_the_reason_and_resumes(
        tmp_path: Path, flow_dir: Path) -> None:
    """It used to stay Running for ever in `run list`, `run show` and the report."""
    kill, go = tmp_path / "kill", tmp_path / "go"
    write_flow(flow_dir, {"t.py": f'''
        import os
        import time
        from pathlib import Path

        from flowline import tool


        @tool
        def t(text: str) -> str:
            if text == "b" and Path({str(kill)!r}).exists():
                deadline = time.monotonic() + 60
                while not Path({str(go)!r}).exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
                os.kill(os.getpid(), 9)
            return text
    ''', "flow.dag.yaml": ONE_NODE_FLOW})
    kill.touch()
    data = _text_data(tmp_path, "a", "b")
    process = subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--flow", str(flow_dir),
                                "--data", str(data), "--workers", "1", "--name", "killed"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        lines_file = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "killed" / "flow_artifacts" / "lines.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lines_file.exists() and lines_file.read_text().count("\n") == 1):
            time.sleep(0.02)
        assert run_cli("run", "show", "--name", "killed").json()["status"] == "Running"  # its process runs
    finally:
        go.touch()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    reason = ("the process running it stopped (killed, or the machine restarted) after 1 of 2 lines; resume with "
              "`flowline run create --resume-from killed`")
    shown = run_cli("run", "show", "--name", "killed").json()
    assert (shown["status"], shown["reason"], shown["lines_completed"], shown["lines_failed"]) == \
           ("Failed", reason, 1, 0)
    assert [(r["status"], r["reason"]) for r in run_cli("run", "list").json()] == [("Failed", reason)]
    listed = run_cli("run", "show-details", "--name", "killed")
    assert f"run 'killed': Failed: {reason}" in listed.stderr
    report = run_cli("run", "visualize", "--names", "killed", "--html-path", str(tmp_path / "report.html"))
    assert f"<td>Failed: {reason}</td>" in Path(report.stdout.strip()).read_text()  # nothing in it to escape
    kill.unlink()
    resumed = create("--flow", str(flow_dir), "--data", str(data), "--resume-from", "killed", "--name", "resumed")
    assert (resumed["status"], resumed["lines_completed"], resumed["reason"]) == ("Completed", 2, None)
    assert run_cli("run", "show", "--name", "killed").json()["status"] == "Failed"


@pytest.mark.parametrize("end,how", [("os._exit(9)", "exited with code 9"),
                                     ("os.kill(os.getpid(), 9)", "was ended by SIGKILL")], ids=["exit", "kill"])
@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_line_that_ends_its_worker_process_fails_alone_and_the_run_goes_on(
        tmp_path: Path, flow_dir: Path, end: str, how: str, processes: str) -> None:
    """It used to fail the whole run ("A worker process stopped while it ran lines", exit 1). promptflow
    1.18.5 (`pf run create` over a line calling os._exit(9)): the run is Completed, that line fails with
    ProcessCrashError "Process crashed while executing line 1,", the others complete in a new process."""
    write_flow(flow_dir, {"t.py": f'''
        import os
        import time

        from flowline import tool


        @tool
        def t(text: str) -> str:
            if text == "b":
                {end}
            time.sleep(0.2)  # the lines share the process when it ends
            return text
    ''', "flow.dag.yaml": ONE_NODE_FLOW})
    data = _text_data(tmp_path, "a", "b", "c", "d")
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--worker-processes", processes,
                     "--name", "crash")
    assert result.code == 0 and "Traceback" not in result.stderr, result.stderr
    record = result.json()
    assert (record["status"], record["lines_completed"], record["lines_failed"], record["reason"]) == \
        ("Completed", 3, 1, None)
    rows = details("crash")
    assert [rows[n]["outputs"] for n in (0, 2, 3)] == [{"out": "a"}, {"out": "c"}, {"out": "d"}]
    assert rows[1]["status"] == "Failed" and rows[1]["inputs"] == {"text": "b"}
    assert rows[1]["error"] == {"type": "ProcessCrashError",
                                "message": f"Process crashed while executing line 1: its worker process {how}."}


def test_a_process_that_ended_is_not_running_even_before_it_is_collected() -> None:
    from flowline.runs.store import process_start

    assert process_start(os.getpid()) == process_start(os.getpid()) is not None
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    if hasattr(os, "waitid"):
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not yet collected: a zombie
        assert process_start(child.pid) is None
    child.wait()
    assert process_start(child.pid) is None


def test_an_index_written_before_runs_had_a_process_still_reads(tmp_path: Path) -> None:
    import sqlite3

    home = Path(os.environ["FLOWLINE_HOME"])
    home.mkdir(parents=True)
    columns = ("name", "flow", "data", "status", "created", "duration_ms", "lines_total", "lines_completed",
               "lines_failed", "metrics", "parent_run", "variant", "folder")
    with sqlite3.connect(home / "runs.sqlite") as db:
        db.execute(f"CREATE TABLE runs ({', '.join(c + ' TEXT' for c in columns)}, PRIMARY KEY (name))")
        db.execute(f"INSERT INTO runs VALUES ({', '.join('?' for _ in columns)})",
                   ("old", "/f", "d.jsonl", "Running", "2025-01-01T00:00:00", None, 2, 0, 0, "{}", None, None,
                    str(home / ".runs" / "old")))
    shown = run_cli("run", "show", "--name", "old").json()
    assert (shown["status"], shown["reason"]) == ("Running", None)  # no pid: nothing tells it stopped
    create("--flow", str(SAMPLES / "hello"), "--data", str(_text_data(tmp_path, "x")), "--name", "new",
           "--column-mapping", "name=${data.text}")
    assert {r["name"] for r in run_cli("run", "list").json()} == {"old", "new"}


# promptflow 1.18.5, observed by running `PF_LINE_TIMEOUT_SEC=2 pf run create --stream` over lines sleeping
# 0, 30 and 1 s: line 1 fails with error type LineExecutionTimeoutError, "Line 1 execution timeout for
# exceeding 2 seconds", its node is Canceled, the process running it is ended, and the others complete.
_STUCK_TOOL = '''
import re
import threading
import time

from flowline import tool


@tool
def stuck(how: str) -> str:
    if how == "sleep":
        time.sleep(30)
    elif how == "wait":  # blocks in C code (the GIL released)
        threading.Event().wait()
    elif how == "loop":
        while True:
            pass
    elif how == "regex":  # one C call that holds the GIL: the whole process freezes
        re.match(r"(a+)+$", "a" * 40 + "b")
    return how
'''
_STUCK_FLOW = """
    inputs:
      how: {type: string}
    outputs:
      out: {reference: "${stuck.output}"}
    nodes:
    - name: stuck
      type: python
      source: {type: code, path: stuck.py}
      inputs: {how: "${inputs.how}"}
"""


def _stuck_run(tmp_path: Path, flow_dir: Path, hows: list[str], *args: str,
               env: dict[str, str] | None = None) -> tuple[float, Any, dict[int, dict[str, Any]]]:
    write_flow(flow_dir, {"stuck.py": _STUCK_TOOL, "flow.dag.yaml": _STUCK_FLOW})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"how": how}) + "\n" for how in hows))
    started = time.monotonic()
    result = run_cli("run", "create", "--flow", str(flow_dir), "--data", str(data), "--name", "stuck", *args,
                     env=None if env is None else {**os.environ, **env})
    elapsed = time.monotonic() - started
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return elapsed, result, details("stuck")


def _timed_out(row: dict[str, Any], limit: str) -> None:
    assert row["status"] == "Failed"
    assert row["error"] == {"type": "LineExecutionTimeoutError",
                            "message": f"Line {row['line_number']} execution timeout for exceeding {limit} seconds: "
                                       "node 'stuck' was still running."}


@pytest.mark.parametrize("mode", [[], ["--worker-processes", "2"]], ids=["threads", "processes"])
def test_a_timed_out_line_ends_at_its_deadline_and_so_does_the_run(tmp_path: Path, flow_dir: Path,
                                                                   mode: list[str]) -> None:
    elapsed, result, rows = _stuck_run(tmp_path, flow_dir, ["ok", "sleep", "ok", "ok"], "--line-timeout", "2", *mode)
    assert elapsed < 8
    assert result.json()["status"] == "Completed"
    _timed_out(rows[1], "2")
    assert [rows[n]["status"] for n in (0, 2, 3)] == ["Completed"] * 3


def test_tools_that_block_in_c_or_loop_are_left_behind_in_threads(tmp_path: Path, flow_dir: Path) -> None:
    elapsed, _, rows = _stuck_run(tmp_path, flow_dir, ["ok", "wait", "loop", "ok"], "--line-timeout", "1")
    assert elapsed < 7
    _timed_out(rows[1], "1")
    _timed_out(rows[2], "1")
    assert rows[0]["outputs"] == rows[3]["outputs"] == {"out": "ok"}


def test_a_frozen_worker_process_is_ended_and_its_other_lines_run_again(tmp_path: Path, flow_dir: Path) -> None:
    # The regex holds the GIL, so the worker cannot time its own line out: the parent ends the process past
    # the deadline; the lines that shared it run again, each alone, so only the culprit fails.
    elapsed, _, rows = _stuck_run(tmp_path, flow_dir, ["ok", "regex", "ok", "loop"], "--line-timeout", "1",
                                  "--worker-processes", "2", "--workers", "2")
    assert elapsed < 10
    _timed_out(rows[1], "1")
    _timed_out(rows[3], "1")
    assert rows[0]["outputs"] == rows[2]["outputs"] == {"out": "ok"}


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((Path(record["folder"]) / "meta.json").read_text())
    return meta


def test_line_timeout_defaults_to_600_and_pf_line_timeout_sec_sets_it(tmp_path: Path, flow_dir: Path) -> None:
    data = _text_data(tmp_path, "x")
    plain = create("--flow", str(SAMPLES / "hello"), "--data", str(data), "--column-mapping", "name=${data.text}")
    assert _meta(plain)["line_timeout"] == 600
    # From the flow's environment_variables (promptflow reads them the same way).
    in_flow = _STUCK_FLOW + '    environment_variables:\n      PF_LINE_TIMEOUT_SEC: "1"\n'
    write_flow(flow_dir, {"stuck.py": _STUCK_TOOL, "flow.dag.yaml": in_flow})
    (tmp_path / "d.jsonl").write_text('{"how": "sleep"}\n')
    record = create("--flow", str(flow_dir), "--data", str(tmp_path / "d.jsonl"), "--name", "from_flow")
    _timed_out(details("from_flow")[0], "1")
    assert _meta(record)["line_timeout"] == 1
    # From the shell; an explicit --line-timeout wins over the variable.
    _, _, rows = _stuck_run(tmp_path, flow_dir, ["sleep"], "--line-timeout", "1.5", env={"PF_LINE_TIMEOUT_SEC": "0.5"})
    _timed_out(rows[0], "1.5")


def test_pf_worker_count_sets_the_lines_at_once_unless_workers_is_given(tmp_path: Path) -> None:
    data = str(_text_data(tmp_path, "x"))
    base = ("--flow", str(SAMPLES / "hello"), "--data", data, "--column-mapping", "name=${data.text}")
    env = {**os.environ, "PF_WORKER_COUNT": "3"}
    from_env = run_cli("run", "create", *base, "--name", "env", env=env)
    assert from_env.code == 0, from_env.stderr
    assert _meta(from_env.json())["workers"] == 3
    explicit = run_cli("run", "create", *base, "--name", "flag", "--workers", "5", env=env)
    assert _meta(explicit.json())["workers"] == 5
    assert _meta(create(*base, "--name", "default"))["workers"] == 16
    # promptflow 1.18.5 runs with its default, silently, when PF_WORKER_COUNT=abc; Flowline says so.
    bad = run_cli("run", "create", *base, "--name", "bad", env={**os.environ, "PF_WORKER_COUNT": "abc"})
    assert bad.code == 0 and _meta(bad.json())["workers"] == 16
    assert "flowline: PF_WORKER_COUNT='abc' is not a whole number above 0; using 16.\n" in bad.stderr


def test_pf_batch_method_is_accepted_and_said_to_be_unused_once(tmp_path: Path) -> None:
    # promptflow 1.18.5 takes fork/spawn/forkserver (and warns, then uses fork, for other values).
    result = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(_text_data(tmp_path, "x")),
                     "--column-mapping", "name=${data.text}", env={**os.environ, "PF_BATCH_METHOD": "spawn"})
    assert result.code == 0, result.stderr
    note = ("flowline: PF_BATCH_METHOD='spawn' is accepted but not used: Flowline runs lines in threads "
            "(or in worker processes with --worker-processes).\n")
    assert result.stderr.count(note) == 1


def test_line_timeout_must_be_above_zero(tmp_path: Path) -> None:
    result = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(_text_data(tmp_path, "x")),
                     "--line-timeout", "0")
    assert result.code == 2
    assert "--line-timeout must be a number of seconds above 0." in result.stderr
    assert "Traceback" not in result.stderr


ENV_FLOW = {"flow.dag.yaml": """
    environment_variables:
      FROM_FLOW: flow
      REPLACED: flow
      KEY: ${env_conn.api_key}
    outputs:
      seen: {reference: "${read.output}"}
    nodes:
    - name: read
      type: python
      source: {type: code, path: read.py}
""", "read.py": """
    import os

    from flowline import tool


    @tool
    def read() -> dict:
        print("the key has", len(os.environ["KEY"]), "characters")
        return {**{n: os.environ.get(n) for n in ["FROM_FLOW", "REPLACED", "ADDED", "LATER"]},
                "KEY_OK": os.environ["KEY"][::-1] == "4321-terces-yrev-ks"}
"""}


def test_run_environment_variables_replace_the_flows_and_secrets_are_never_stored(tmp_path: Path,
                                                                                   flow_dir: Path) -> None:
    """Observed with promptflow 1.18.5 (`pf run create`): run.yml's and --environment-variables' values
    replace the flow's of the same name; --environment-variables with -f replaces run.yml's whole set;
    `${conn.field}` is read from the stored connection; run.yml takes strings only ("Not a valid string.")."""
    from conftest import create_connection

    create_connection(tmp_path, "name: env_conn\ntype: custom\nconfigs: {endpoint: http://e.test}\n"
                                "secrets: {api_key: sk-very-secret-1234}\n")
    write_flow(flow_dir, ENV_FLOW)
    (tmp_path / "d.jsonl").write_text("{}\n")
    run_file = tmp_path / "run.yml"
    run_file.write_text(f"flow: {flow_dir}\ndata: d.jsonl\nenvironment_variables:\n  REPLACED: yml\n"
                        "  ADDED: ${env_conn.endpoint}\n")
    create("-f", str(run_file), "--name", "yml")
    create("-f", str(run_file), "--name", "yml_cli", "--environment-variables", "LATER=2")
    create("--flow", str(flow_dir), "--data", str(tmp_path / "d.jsonl"), "--name", "cli",
           "--environment-variables", "REPLACED=cli", "--environment-variables", "KEY=${env_conn.api_key}")
    seen = {name: details(name)[0]["outputs"]["seen"] for name in ("yml", "yml_cli", "cli")}
    assert seen == {
        "yml": {"FROM_FLOW": "flow", "REPLACED": "yml", "ADDED": "http://e.test", "LATER": None, "KEY_OK": True},
        "yml_cli": {"FROM_FLOW": "flow", "REPLACED": "flow", "ADDED": None, "LATER": "2", "KEY_OK": True},
        "cli": {"FROM_FLOW": "flow", "REPLACED": "cli", "ADDED": None, "LATER": None, "KEY_OK": True}}
    runs = Path(os.environ["FLOWLINE_HOME"]) / ".runs"
    assert "the key has 19 characters" in (runs / "cli" / "logs.txt").read_text()
    stored = [p for p in runs.rglob("*") if p.is_file() and b"sk-very-secret" in p.read_bytes()]
    assert stored == []
    assert json.loads((runs / "cli" / "meta.json").read_text())["environment_variables"] == {
        "REPLACED": "cli", "KEY": "${env_conn.api_key}"}
    run_file.write_text(f"flow: {flow_dir}\ndata: d.jsonl\nenvironment_variables:\n  DEBUG: true\n")
    refused = run_cli("run", "create", "-f", str(run_file))
    assert (refused.code, refused.stderr) == (
        2, f"flowline: error: {run_file}: environment_variables.DEBUG is not a string; write it in quotes.\n")


@pytest.mark.parametrize("how", [[], ["--worker-processes", "2"]], ids=["threads", "processes"])
def test_a_secret_a_tool_prints_or_raises_with_is_masked_in_the_run_folder(tmp_path: Path, flow_dir: Path,
                                                                            how: list[str]) -> None:
    """Tools' prints and exception texts reach logs.txt, the line and node records: the flow's connection
    secrets are masked there (promptflow 1.18.5 writes them as they are; Flowline never stores a secret)."""
    from conftest import create_connection

    create_connection(tmp_path, "name: leaky\ntype: custom\nsecrets: {token: tok-leaky-0042}\n")
    write_flow(flow_dir, LEAKY_FLOW)
    data = _text_data(tmp_path, "ok", "fail")
    record = create("--flow", str(flow_dir), "--data", str(data), "--name", "leaky", *how)
    assert (record["lines_completed"], record["lines_failed"]) == (1, 1)
    rows = details("leaky")
    assert rows[1]["error"]["message"] == "refused with ******"
    runs = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "leaky"
    assert "the token is ******" in (runs / "logs.txt").read_text()
    assert [p for p in runs.rglob("*") if p.is_file() and b"tok-leaky" in p.read_bytes()] == []
    tested = run_cli("flow", "test", "--flow", str(flow_dir), "--inputs", "text=fail", "--events", "-")
    assert tested.code == 1
    assert "tok-leaky" not in tested.stdout + tested.stderr
    assert "refused with ******" in tested.stdout


def test_resume_from_alone_reuses_the_run_and_refuses_other_data_or_flow(tmp_path: Path, flow_dir: Path) -> None:
    """promptflow 1.18.5 (observed) refuses data, flow, column mapping, variant, connections and
    environment variables with --resume-from ("'resume_from' is not supported to be used with the with
    following parameters: {'data': 'other.jsonl'}", exit 1) and runs the resumed lines without the run's
    environment variables (they saw Q=None); Flowline takes all of them from the run (ARCHITECTURE §10)."""
    fixed = tmp_path / "fixed"
    write_flow(flow_dir, {"t.py": f'''
        import os
        from pathlib import Path

        from flowline import tool


        @tool
        def t(x: str) -> str:
            if x == "b" and not Path({str(fixed)!r}).exists():
                raise ValueError("b fails")
            return x + ":" + str(os.environ.get("Q"))
    ''', "flow.dag.yaml": """
        inputs:
          text: {type: string}
        outputs:
          out: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {x: "${inputs.text}"}
    """})
    (tmp_path / "d.jsonl").write_text('{"x": "a"}\n{"x": "b"}\n')
    first = run_cli("run", "create", "--flow", "flow", "--data", "d.jsonl", "--column-mapping", "text=${data.x}",
                    "--environment-variables", "Q=orig", "--name", "first", cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert (first.json()["lines_completed"], first.json()["lines_failed"]) == (1, 1)
    other = tmp_path / "other.jsonl"
    other.write_text('{"x": "z"}\n')
    for option, value, shown in (("--data", str(other), str(tmp_path / "d.jsonl")),
                                 ("--flow", str(SAMPLES / "hello"), str(flow_dir))):
        refused = run_cli("run", "create", "--resume-from", "first", option, value)
        assert (refused.code, refused.stderr) == (
            2, f"flowline: error: --resume-from first runs with that run's {option[2:]} ({shown}); {option} {value} "
               "differs: leave it out, or start a new run.\n")
    fixed.touch()
    resumed = create("--resume-from", "first", "--name", "second")  # another working directory than the first
    assert (resumed["lines_completed"], resumed["lines_failed"]) == (2, 0)
    assert {n: row["outputs"]["out"] for n, row in details("second").items()} == {0: "a:orig", 1: "b:orig"}
