"""`flowline run create --engine ray` against a real Ray head on 127.0.0.1 (two worker processes, no dashboard).

The head is started once for the module with `ray start --head` in its own temporary folder (so the secret
test can read every file Ray wrote); each run names it with --ray-address.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LEAKY_FLOW, create_connection, run_cli, write_flow

ray = pytest.importorskip("ray")
BATCH = Path(__file__).resolve().parent / "conformance_batch"
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def head() -> Iterator[tuple[str, Path]]:
    """A Ray head on 127.0.0.1 with two CPUs: its address and its temporary folder (short: Ray's socket paths
    must fit in 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="flr-"))
    port = _free_port()
    # Ray takes 127.0.0.1 for "this machine" and looks up its network address instead, unless told that
    # this is a one-machine cluster (the variable's name says macOS and Windows, where that is the default).
    loopback = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    env = {**os.environ, **loopback}
    started = subprocess.run([str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                              "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={folder}",
                              "--disable-usage-stats"], capture_output=True, text=True, env=env, timeout=180)
    assert started.returncode == 0, started.stderr
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in loopback.items():
                patch.setenv(key, value)  # for the runs' processes, which the tests start
            yield f"127.0.0.1:{port}", folder
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, env=env, timeout=180)
        shutil.rmtree(folder, ignore_errors=True)


def _create(address: str, *args: str) -> dict[str, Any]:
    result = run_cli("run", "create", *args, "--engine", "ray", "--ray-address", address, "--ray-workers", "2")
    assert result.code == 0, result.stderr
    record: dict[str, Any] = result.json()
    return record


def _lines(name: str) -> list[dict[str, Any]]:
    folder = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / name / "flow_artifacts" / "lines.jsonl"
    return [json.loads(line) for line in folder.read_text().splitlines()]


def _comparable(name: str) -> list[tuple[Any, ...]]:
    return [(r["line_number"], r["status"], r.get("outputs"), (r.get("error") or {}).get("message"))
            for r in _lines(name)]


def test_the_conformance_flows_give_on_ray_what_they_give_locally(head: tuple[str, Path]) -> None:
    address, _ = head
    base = ("--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"), "--column-mapping",
            "text=${data.text}")
    local = run_cli("run", "create", *base, "--name", "local")
    assert local.code == 0, local.stderr
    on_ray = _create(address, *base, "--name", "on_ray", "--lines-per-task", "2")
    assert (on_ray["lines_completed"], on_ray["lines_failed"]) == (4, 1)
    assert _comparable("on_ray") == _comparable("local")
    assert [r["line_number"] for r in _lines("on_ray")] == [0, 1, 2, 3, 4]  # in line order
    log = (Path(on_ray["folder"]) / "logs.txt").read_text()  # Ray's fixed costs, apart from the lines'
    assert re.search(r"ray: 2 worker process\(es\) ready in \d+\.\d\d s", log), log
    assert re.search(r"ray: shut down in \d+\.\d\d s", log), log
    evaluate = ("--flow", str(BATCH / "evaluate"), "--data", str(BATCH / "data.jsonl"), "--column-mapping",
                "groundtruth=${data.answer}", "prediction=${run.outputs.category}")
    assert run_cli("run", "create", *evaluate, "--run", "local", "--name", "eval_local").code == 0
    evaluated = _create(address, *evaluate, "--run", "on_ray", "--name", "eval_ray")
    assert evaluated["metrics"] == {"accuracy": 0.75, "graded": 4}  # aggregation once, on the driver
    assert _comparable("eval_ray") == _comparable("eval_local")


SLOW = {"flow.dag.yaml": """
    inputs:
      x: {type: int}
    outputs:
      y:
        type: int
        reference: ${slow.output}
    nodes:
    - name: slow
      type: python
      source: {type: code, path: slow.py}
      inputs:
        x: ${inputs.x}
    """, "slow.py": """
    import time

    from flowline import tool


    @tool
    def slow(x: int) -> int:
        time.sleep(0.05)
        return x * 2
    """}


def _started(address: str, flow: Path, data: Path, name: str, *extra: str) -> subprocess.Popen[str]:
    """`run create` of ``flow`` over ``data`` on the head, two workers, running in the background."""
    return subprocess.Popen([sys.executable, "-m", "flowline", "run", "create", "--flow", str(flow), "--data",
                             str(data), "--name", name, "--engine", "ray", "--ray-address", address, "--ray-workers",
                             "2", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_lines(child: subprocess.Popen[str], name: str, count: int) -> None:
    """Until run ``name`` has written ``count`` lines (polling its file: a state, not a time)."""
    lines = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / name / "flow_artifacts" / "lines.jsonl"
    while not (lines.is_file() and lines.read_text().count("\n") >= count):
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)


def _flow_over(tmp_path: Path, name: str, files: dict[str, str], lines: int) -> tuple[Path, Path]:
    """The flow ``files`` written as ``tmp_path/name``, and a data file of ``lines`` lines: ``{"x": 0}``,
    ``{"x": 1}``..."""
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"x": i}) + "\n" for i in range(lines)))
    return write_flow(tmp_path / name, files), data


def _worker_pids() -> list[int]:
    listed = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in listed.splitlines() if "ray::LineWorker" in line]


def test_a_worker_killed_mid_run_has_its_lines_run_again_each_line_once(head: tuple[str, Path],
                                                                        tmp_path: Path) -> None:
    address, _ = head
    flow, data = _flow_over(tmp_path, "slow", SLOW, 400)
    child = _started(address, flow, data, "killed", "--workers", "4", "--lines-per-task", "20")
    _wait_for_lines(child, "killed", 40)  # some tasks done, most to come
    pids = _worker_pids()
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    record = json.loads(out)
    assert (record["lines_completed"], record["lines_failed"]) == (400, 0)
    numbers = [r["line_number"] for r in _lines("killed")]
    assert sorted(numbers) == list(range(400))  # each line recorded once
    assert {r["outputs"]["y"] for r in _lines("killed")} == {2 * i for i in range(400)}
    log = (Path(record["folder"]) / "logs.txt").read_text()
    assert "ray: a worker process died (ActorDiedError); a new one takes its place" in log, log


TRICKY = {"flow.dag.yaml": SLOW["flow.dag.yaml"].replace("slow", "tricky"), "tricky.py": """
    import os
    import time

    from flowline import tool


    @tool
    def tricky(x: int) -> int:
        if x == 2:
            os._exit(1)  # ends its worker process, and the lines beside it with it
        if x == 4:
            time.sleep(60)
        return x * 2
    """}


def test_a_line_that_ends_its_worker_fails_alone_and_a_line_over_its_timeout_times_out(head: tuple[str, Path],
                                                                                      tmp_path: Path) -> None:
    """As the local engine with --worker-processes does: only the line that ends its process fails (found by
    running the lines of the tasks that died one at a time, alone on a worker), and --line-timeout holds."""
    address, _ = head
    flow, data = _flow_over(tmp_path, "tricky", TRICKY, 6)
    record = _create(address, "--flow", str(flow), "--data", str(data), "--name", "tricky", "--lines-per-task", "2",
                     "--line-timeout", "3")
    assert (record["lines_completed"], record["lines_failed"]) == (4, 2)
    lines = _lines("tricky")
    assert [r["line_number"] for r in lines] == list(range(6))
    assert [r["outputs"]["y"] for r in lines if r["status"] == "Completed"] == [0, 2, 6, 10]
    assert lines[2]["error"] == {"type": "ProcessCrashError", "message": "Process crashed while executing line 2: "
                                 "the Ray worker running it alone died 3 times (ActorDiedError)."}
    assert lines[4]["error"]["type"] == "LineExecutionTimeoutError"
    assert "Line 4 execution timeout for exceeding 3 seconds" in lines[4]["error"]["message"]


def test_a_flow_that_cannot_load_on_the_workers_fails_its_lines_saying_why(head: tuple[str, Path],
                                                                          tmp_path: Path) -> None:
    """A package the driver has and the workers lack: every line fails with the reason, no traceback."""
    address, _ = head
    flow = write_flow(tmp_path / "needs", {"flow.dag.yaml": SLOW["flow.dag.yaml"], "slow.py": """
        import only_on_the_driver

        from flowline import tool


        @tool
        def slow(x: int) -> int:
            return x
        """})
    write_flow(tmp_path / "packages", {"only_on_the_driver.py": "VALUE = 1\n"})
    data = tmp_path / "data.jsonl"
    data.write_text('{"x": 1}\n{"x": 2}\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "packages")}
    done = run_cli("run", "create", "--flow", str(flow), "--data", str(data), "--name", "cannot_load", "--engine",
                   "ray", "--ray-address", address, env=env)
    assert done.code == 0 and "Traceback" not in done.stderr, done.stderr
    assert (done.json()["lines_completed"], done.json()["lines_failed"]) == (0, 2)
    error = _lines("cannot_load")[0]["error"]
    assert error["type"] == "PythonLoadError"
    assert error["message"].startswith("The flow could not load on a Ray worker: ")
    assert "No module named 'only_on_the_driver'" in error["message"]


def test_a_run_waiting_for_room_on_the_cluster_says_so_and_ctrl_c_ends_it(head: tuple[str, Path],
                                                                         tmp_path: Path) -> None:
    address, _ = head
    flow, data = _flow_over(tmp_path, "slow", SLOW, 10)
    child = _started(address, flow, data, "no_room", "--ray-workers", "3", "--lines-per-task", "1")  # the last wins
    assert child.stderr is not None
    said = ""
    while "flowline: waiting for Ray" not in said:  # the head has 2 CPUs, each worker takes one
        line = child.stderr.readline()
        assert line, f"ended without the notice: {said}"
        said += line
    assert "waiting for Ray to start 1 of 3 worker process(es): each takes 1 CPU, and the cluster has 0 of 2 " \
           "free" in said, said
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert json.loads(run_cli("run", "show", "--name", "no_room").stdout)["status"] == "Canceled"
    assert _worker_pids() == []


def test_a_connections_secret_reaches_the_workers_and_no_file(head: tuple[str, Path], tmp_path: Path) -> None:
    address, temp_dir = head
    create_connection(tmp_path, "name: leaky\ntype: custom\nsecrets: {token: tok-ray-secret-77}\n")
    flow = write_flow(tmp_path / "leaky", LEAKY_FLOW)
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a"}\n{"text": "fail"}\n')
    record = _create(address, "--flow", str(flow), "--data", str(data), "--name", "leaky")
    assert (record["lines_completed"], record["lines_failed"]) == (1, 1)
    assert _lines("leaky")[1]["error"]["message"] == "refused with ******"  # the worker read the secret
    run_folder = Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "leaky"
    assert "the token is ******" in (run_folder / "logs.txt").read_text()
    leaked = [p for root in (temp_dir, run_folder) for p in root.rglob("*")
              if p.is_file() and not p.is_symlink() and b"tok-ray-secret" in p.read_bytes()]
    assert leaked == []


def test_ctrl_c_cancels_the_tasks_and_the_run_resumes_on_the_local_engine(head: tuple[str, Path],
                                                                         tmp_path: Path) -> None:
    address, _ = head
    flow, data = _flow_over(tmp_path, "slow", SLOW, 300)
    child = _started(address, flow, data, "stopped", "--workers", "2", "--lines-per-task", "10")
    _wait_for_lines(child, "stopped", 20)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "--resume-from stopped" in err
    stopped = json.loads(run_cli("run", "show", "--name", "stopped").stdout)
    assert stopped["status"] == "Canceled" and 20 <= stopped["lines_completed"] < 300
    assert _worker_pids() == []  # the workers were ended with the run
    resumed = run_cli("run", "create", "--resume-from", "stopped", "--name", "resumed")
    assert resumed.code == 0, resumed.stderr
    assert (resumed.json()["lines_completed"], resumed.json()["lines_failed"]) == (300, 0)
    assert sorted(r["line_number"] for r in _lines("resumed")) == list(range(300))


def test_run_yml_engine_and_ray_settings_and_what_is_refused(head: tuple[str, Path], tmp_path: Path) -> None:
    address, _ = head
    run_file = tmp_path / "run.yml"
    run_file.write_text(f"flow: {BATCH / 'classify'}\ndata: {BATCH / 'data.jsonl'}\ncolumn_mapping:\n"
                        f"  text: ${{data.text}}\nengine: ray\nray:\n  address: {address}\n  lines_per_task: 3\n")
    done = run_cli("run", "create", "-f", str(run_file), "--name", "from_yml")
    assert done.code == 0, done.stderr
    meta = json.loads((Path(os.environ["FLOWLINE_HOME"]) / ".runs" / "from_yml" / "meta.json").read_text())
    assert meta["engine"] == "ray"
    for args, message in [
            (("--ray-workers", "2"), "need --engine ray"),
            (("--engine", "local", "--ray-address", address), "need --engine ray"),
            (("--engine", "ray", "--worker-processes", "2"), "--worker-processes is the local engine's"),
            (("--engine", "ray", "--lines-per-task", "0"), "--lines-per-task must be at least 1")]:
        refused = run_cli("run", "create", "--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"),
                          *args)
        assert (refused.code, message in refused.stderr) == (2, True), refused.stderr
    run_file.write_text(f"flow: {BATCH / 'classify'}\ndata: {BATCH / 'data.jsonl'}\nengine: rays\n")
    refused = run_cli("run", "create", "-f", str(run_file))
    assert (refused.code, refused.stderr) == (2, f"flowline: error: {run_file}: engine is 'local' or 'ray', not "
                                                 "'rays'.\n")


def test_an_address_where_nothing_answers_fails_the_run_at_once_saying_so() -> None:
    port = _free_port()
    done = run_cli("run", "create", "--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"),
                   "--column-mapping", "text=${data.text}", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}",
                   "--name", "unreachable")
    assert done.code == 1 and "Traceback" not in done.stderr
    assert f"Could not reach the Ray cluster at 127.0.0.1:{port}: Connection refused." in done.stderr
    assert json.loads(run_cli("run", "show", "--name", "unreachable").stdout)["status"] == "Failed"
    dashboard = run_cli("run", "create", "--flow", str(BATCH / "classify"), "--data", str(BATCH / "data.jsonl"),
                        "--column-mapping", "text=${data.text}", "--engine", "ray", "--ray-address",
                        "http://127.0.0.1:8265")
    assert dashboard.code == 1 and "Traceback" not in dashboard.stderr
    assert "http://127.0.0.1:8265 is a Ray dashboard or job address; --ray-address takes the cluster's own " \
           "address: host:6379" in dashboard.stderr
