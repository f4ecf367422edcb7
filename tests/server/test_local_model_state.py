"""The local model's state without llama.cpp: how the watcher records the end of a server, what a
refused connection then says, and that pids which are not (or no longer) ours are never taken for
the server. Stand-in commands play the server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from flowline.local_llm.state import ExitRecord, read_exit, read_server, stopped_message
from flowline.local_llm.watch import write_json


def _watch(home: Path, port: int, code: str) -> None:
    """Run the watcher over ``python -c code`` until the stand-in server ends."""
    state = home / "local-llm"
    state.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "flowline.local_llm.watch", "--state", str(state), "--port", str(port),
                    "--model", "/models/m.gguf", "--", sys.executable, "-c", code], check=True, timeout=60)


def test_a_server_killed_by_an_illegal_instruction_is_explained(tmp_path: Path) -> None:
    _watch(tmp_path, 8199, "import os, signal; print('loading'); os.kill(os.getpid(), signal.SIGILL)")
    record = read_server(tmp_path)
    assert record is not None and record.port == 8199 and record.model == "/models/m.gguf"
    ended = read_exit(tmp_path, record.pid)
    assert ended is not None and ended.returncode == -4 and not ended.requested
    message = stopped_message("http://127.0.0.1:8199/v1", tmp_path)
    assert message is not None
    assert message.startswith(f"the local model stopped: its server (pid {record.pid}) crashed with SIGILL "
                              "(an illegal instruction: this build of llama.cpp uses CPU instructions this CPU "
                              "lacks; `make local-llm-install` builds it for any CPU) at ")
    assert message.endswith(f"Its log: {tmp_path / 'local-llm' / 'server.log'}. "
                            "Restart it with `flowline local-llm start --port 8199`.")
    assert (tmp_path / "local-llm" / "server.log").read_text() == "loading\n"


def test_other_endpoints_get_no_local_model_advice(tmp_path: Path) -> None:
    _watch(tmp_path, 8181, "raise SystemExit(3)")
    assert stopped_message("http://127.0.0.1:8182/v1", tmp_path) is None
    assert stopped_message("https://api.openai.com/v1", tmp_path) is None
    message = stopped_message("http://localhost:8181/v1/", tmp_path)
    assert message is not None and "exited with code 3" in message
    assert "Restart it with `flowline local-llm start`." in message  # the default port needs no --port


def test_never_started_says_nothing(tmp_path: Path) -> None:
    assert stopped_message("http://127.0.0.1:8181/v1", tmp_path) is None


def test_reasons() -> None:
    now = time.time()
    assert ExitRecord(1, -15, now, requested=True).reason() == "was stopped with `flowline local-llm stop`"
    assert ExitRecord(1, -15, now, requested=False).reason() == "was killed by SIGTERM"
    assert ExitRecord(1, 2, now, requested=False).reason() == "exited with code 2"
    assert ExitRecord(1, -9, now, requested=False).reason().startswith("was killed by SIGKILL (")
    assert ExitRecord(1, -11, now, requested=False).reason() == "crashed with SIGSEGV (a segmentation fault)"


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not ours, in a session of its own (as a pid reused after a reboot may be)."""
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_pid_that_is_not_ours_is_neither_running_nor_stopped(tmp_path: Path, flowline_home: Path,
                                                               stranger: subprocess.Popen[bytes]) -> None:
    state = flowline_home / "local-llm"
    state.mkdir(parents=True)
    write_json(state / "server.json", {"pid": stranger.pid, "watcher": stranger.pid, "port": 8181,
                                       "model": "/m.gguf", "log": str(state / "server.log"), "log_offset": 0,
                                       "started": time.time() - 3600})
    status = run_cli("local-llm", "status", "--json")
    assert status.code == 3 and json.loads(status.stdout)["running"] is False
    stopped = run_cli("local-llm", "stop")
    assert stopped.code == 0 and "not running" in stopped.stderr
    assert stranger.poll() is None  # left alone
    assert stopped_message("http://127.0.0.1:8181/v1", flowline_home) is not None  # the local model is down


def test_an_unreadable_state_file_is_said_so(flowline_home: Path) -> None:
    state = flowline_home / "local-llm"
    state.mkdir(parents=True)
    (state / "server.json").write_text("{garbage")
    status = run_cli("local-llm", "status")
    assert status.code == 3
    assert status.stdout.startswith("stopped\nserver.json cannot be read, so a server started earlier may still run")


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    result = run_cli("local-llm", "start", "--port", port)
    assert result.code == 2
    assert f"'{port}' is not a port: give a number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
