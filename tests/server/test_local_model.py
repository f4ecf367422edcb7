"""The real local model (SmolLM2-135M behind llama.cpp's server): start, answers, stop, status, and
what a user reads when it cannot start or has stopped.

`make test` installs the model (`make local-llm-install`); each test starts the server itself on a
free port, with its own FLOWLINE_HOME, and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli
from flowline.local_llm.control import model_path

pytest.importorskip("llama_cpp", reason="the local model is installed by `make local-llm-install`")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status() -> dict[str, object]:
    return dict(json.loads(run_cli("local-llm", "status", "--json").stdout))


@pytest.fixture
def local_model() -> Iterator[int]:
    port = _free_port()
    started = run_cli("local-llm", "start", "--port", str(port))
    assert started.code == 0, started.stderr
    try:
        yield port
    finally:
        assert run_cli("local-llm", "stop").code == 0


def _ask(question: str, events_file: Path) -> str:
    result = run_cli("flow", "test", "--flow", str(SAMPLES / "chat-basic"), "--no-stream",
                     "--inputs", f"question={question}", "--events", str(events_file))
    assert result.code == 0, result.stderr
    answer = result.json()["answer"]
    assert isinstance(answer, str) and answer.strip()
    run_end = json.loads(events_file.read_text().splitlines()[-1])
    assert run_end["tokens"]["prompt"] > 0 and run_end["tokens"]["completion"] > 0
    assert run_end["tokens"]["total"] == run_end["tokens"]["prompt"] + run_end["tokens"]["completion"]
    return answer


def test_two_chat_answers_with_usage(local_model: int, tmp_path: Path) -> None:
    shown = run_cli("connection", "show", "--name", "local")
    assert shown.json()["configs"]["base_url"] == f"http://127.0.0.1:{local_model}/v1"
    _ask("What color is the sky?", tmp_path / "first.jsonl")
    _ask("Name a primary color.", tmp_path / "second.jsonl")


def test_status_reports_pid_port_model_and_uptime(local_model: int, flowline_home: Path) -> None:
    shown = run_cli("local-llm", "status")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "running"
    assert f"port: {local_model} (http://127.0.0.1:{local_model}/v1)" in lines
    assert any(line.startswith("model: ") and line.endswith(".gguf") for line in lines)
    assert any(line.startswith("uptime: ") and line.endswith(" s") for line in lines)
    status = _status()
    assert status["running"] is True and status["port"] == local_model
    pid = status["pid"]
    assert isinstance(pid, int) and os.path.exists(f"/proc/{pid}")
    assert status["log"] == str(flowline_home / "local-llm" / "server.log")


def test_start_is_idempotent(local_model: int) -> None:
    again = run_cli("local-llm", "start", "--port", str(local_model))
    assert again.code == 0, again.stderr
    assert "already running" in again.stderr
    elsewhere = run_cli("local-llm", "start", "--port", str(_free_port()))
    assert elsewhere.code == 1
    assert f"already runs on port {local_model}" in elsewhere.stderr


def test_two_starts_at_once_share_one_server(flowline_home: Path) -> None:
    port = str(_free_port())
    starts = [subprocess.Popen([sys.executable, "-m", "flowline", "local-llm", "start", "--port", port],
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        said = [process.communicate(timeout=120)[1] for process in starts]
        assert [process.returncode for process in starts] == [0, 0], said
        assert sum("already running" in text for text in said) == 1, said
        status = _status()
        assert status["running"] is True and str(status["port"]) == port
        assert all(f"(pid {status['pid']})" in text for text in said), said
    finally:
        assert run_cli("local-llm", "stop").code == 0


def test_another_model_while_one_runs_is_refused(local_model: int, tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    result = run_cli("local-llm", "start", "--port", str(local_model), "--model", str(other))
    assert result.code == 1
    assert "The local model already runs with " in result.stderr and "stop it first" in result.stderr


def test_a_start_ended_by_sigterm_leaves_nothing_running(flowline_home: Path) -> None:
    starting = subprocess.Popen([sys.executable, "-m", "flowline", "local-llm", "start", "--port",
                                 str(_free_port())], stderr=subprocess.PIPE)
    state = flowline_home / "local-llm" / "server.json"
    deadline = time.monotonic() + 60
    while not state.exists() and starting.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    starting.terminate()  # as `timeout` does
    starting.communicate(timeout=60)
    assert starting.returncode == 128 + signal.SIGTERM
    server, watcher = (json.loads(state.read_text())[key] for key in ("pid", "watcher"))
    deadline = time.monotonic() + 10
    while (os.path.exists(f"/proc/{server}") or os.path.exists(f"/proc/{watcher}")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server is init's child now: gone once init has collected it
    assert not os.path.exists(f"/proc/{server}") and not os.path.exists(f"/proc/{watcher}")


def test_a_killed_server_is_explained_at_the_next_run(local_model: int, flowline_home: Path) -> None:
    pid = _status()["pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _status()["running"] and time.monotonic() < deadline:  # the watcher reaps it and records how
        time.sleep(0.1)
    status = run_cli("local-llm", "status")
    assert status.code == 3 and status.stdout.startswith("stopped\n")
    assert "last server: was killed by SIGKILL" in status.stdout

    result = run_cli("flow", "test", "--flow", str(SAMPLES / "chat-basic"), "--inputs", "question=Hello?")
    assert result.code == 1
    log = flowline_home / "local-llm" / "server.log"
    assert (f"Node 'chat' (connection 'local', endpoint http://127.0.0.1:{local_model}/v1): the local model "
            f"stopped: its server (pid {pid}) was killed by SIGKILL (by someone, or by the kernel when memory "
            "ran out) at ") in result.stderr
    assert f"Its log: {log}." in result.stderr
    assert f"Restart it with `flowline local-llm start --port {local_model}`." in result.stderr
    assert "Is the server running" not in result.stderr and "cannot connect" not in result.stderr

    restarted = run_cli("local-llm", "start", "--port", str(local_model))
    assert restarted.code == 0, restarted.stderr
    assert run_cli("flow", "test", "--flow", str(SAMPLES / "chat-basic"), "--inputs", "question=Hi").code == 0


def test_stopped_on_purpose_is_said_so(local_model: int) -> None:
    assert run_cli("local-llm", "stop").code == 0
    result = run_cli("flow", "test", "--flow", str(SAMPLES / "chat-basic"), "--inputs", "question=Hello?")
    assert result.code == 1
    assert "was stopped with `flowline local-llm stop`" in result.stderr
    assert run_cli("local-llm", "start", "--port", str(local_model)).code == 0  # for the fixture's stop


def test_a_model_that_cannot_load_fails_the_start_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a GGUF file\n" * 64)
    started = time.monotonic()
    result = run_cli("local-llm", "start", "--port", str(_free_port()), "--model", str(broken))
    elapsed = time.monotonic() - started
    assert result.code == 1
    assert elapsed < 30, f"took {elapsed:.1f} s"
    assert "The local model did not start: its server (pid " in result.stderr
    assert "exited with code 1 during start-up" in result.stderr
    assert "Last lines of its log (" in result.stderr
    assert "Failed to load model from file" in result.stderr  # llama-cpp-python's own words, from the log
    assert "Traceback" not in result.stderr and "File \"" not in result.stderr  # the reason, not the frames
    assert _status()["running"] is False


@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                    reason="the CPU variants are built on Linux x86-64")
def test_the_build_runs_on_any_x86_64_cpu(tmp_path: Path) -> None:
    """The installed build is the portable one: a CPU backend per x86-64 level, chosen at run time
    (none for AMX), shared libraries without AVX, and the baseline variant alone answers."""
    import llama_cpp

    lib = Path(llama_cpp.__file__).parent / "lib"
    variants = {path.name for path in lib.glob("libggml-cpu-*.so")}
    assert {"libggml-cpu-x64.so", "libggml-cpu-sse42.so", "libggml-cpu-haswell.so",
            "libggml-cpu-skylakex.so", "libggml-cpu-zen4.so"} <= variants
    assert "libggml-cpu-sapphirerapids.so" not in variants
    assert not (lib / "libggml-cpu.so").exists(), "a CPU backend built for one CPU"
    objdump = shutil.which("objdump")
    if objdump is not None:
        for name in ("libggml-base.so", "libggml.so", "libllama.so", "libggml-cpu-x64.so"):
            code = subprocess.run([objdump, "-d", str(lib / name)], capture_output=True, text=True,
                                  check=True).stdout
            for register in ("%ymm", "%zmm", "%tmm"):  # AVX, AVX-512, AMX
                assert register not in code, f"{name} uses {register}"
    # What a CPU with nothing beyond x86-64 gets: only the baseline variant where the backend is sought.
    (tmp_path / "libggml-cpu-x64.so").symlink_to(lib / "libggml-cpu-x64.so")
    script = ("import sys\nfrom llama_cpp import Llama\n"
              "llm = Llama(model_path=sys.argv[1], n_ctx=256, verbose=True)\n"
              "answer = llm.create_chat_completion(messages=[{'role': 'user', 'content': 'Say hello.'}],"
              " max_tokens=8)\nprint(answer['choices'][0]['message']['content'])\n")
    answered = subprocess.run([sys.executable, "-c", script, str(model_path())], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert f"loaded CPU backend from {tmp_path / 'libggml-cpu-x64.so'}" in answered.stderr
    assert answered.stdout.strip()
