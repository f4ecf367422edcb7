"""What ``FLOWLINE_HOME/local-llm`` says about the local model's server.

The folder holds ``server.json`` (written by the watcher as the server process starts: pids, port,
model, log file and where this start's part of the log begins), ``exit.json`` (written by the
watcher when the server process ends: its exit code or signal), ``stop.json`` (the server that
`flowline local-llm stop` asked to end) and ``server.log``. Everything here only reads those files
and asks the OS about pids, so the engine can explain a refused connection without importing
anything heavy.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORT = 8181
CONNECTION = "local"
SERVER_MODULE = "llama_cpp.server"
WATCH_MODULE = "flowline.local_llm.watch"
# Signals a process gets from its own fault rather than from someone else.
CRASHES = {signal.SIGSEGV: "a segmentation fault", signal.SIGBUS: "a bus error", signal.SIGFPE: "an arithmetic error",
           signal.SIGABRT: "an abort"}


@dataclass(frozen=True)
class ServerRecord:
    """One start of the server, as ``server.json`` records it."""

    pid: int
    watcher: int
    port: int
    model: str
    log: Path
    log_offset: int
    started: float  # seconds since the epoch

    @property
    def base_url(self) -> str:
        return base_url(self.port)

    def server_running(self) -> bool:
        """Whether the server process still runs (not a zombie, not another program on a reused pid)."""
        return running(self.pid, SERVER_MODULE)

    def watcher_running(self) -> bool:
        """Whether its watcher still runs (same checks)."""
        return running(self.watcher, WATCH_MODULE)


@dataclass(frozen=True)
class ExitRecord:
    """How the server process ``pid`` ended, as ``exit.json`` records it."""

    pid: int
    returncode: int
    ended: float  # seconds since the epoch
    requested: bool  # `flowline local-llm stop` asked for it

    def reason(self) -> str:
        """How the process ended, for people: 'was killed by SIGKILL', 'exited with code 1' ..."""
        if self.requested:
            return "was stopped with `flowline local-llm stop`"
        if self.returncode >= 0:
            return f"exited with code {self.returncode}"
        number = -self.returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGILL:
            return (f"crashed with {name} (an illegal instruction: this build of llama.cpp uses CPU instructions "
                    "this CPU lacks; `make local-llm-install` builds it for any CPU)")
        if number in CRASHES:
            return f"crashed with {name} ({CRASHES[signal.Signals(number)]})"
        if number == signal.SIGKILL:
            return f"was killed by {name} (by someone, or by the kernel when memory ran out)"
        return f"was killed by {name}"

    def signal_name(self) -> str | None:
        """'SIGKILL' when a signal ended the process, else None."""
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


def folder(home: Path) -> Path:
    """The local model's state folder under ``home`` (absolute, so messages name it from anywhere)."""
    return (home / "local-llm").absolute()


def base_url(port: int) -> str:
    """The OpenAI-compatible base URL of a server on 127.0.0.1:``port``."""
    return f"http://127.0.0.1:{port}/v1"


def running(pid: int, marker: str) -> bool:
    """Whether process ``pid`` runs and its command line holds ``marker``.

    A zombie (ended, its status not yet collected) does not run, and a pid written before a reboot
    may since belong to another program, which must never be taken for ours (nor be signalled).
    Reads /proc where there is one, else asks ``ps``."""
    if pid <= 0:
        return False
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, IndexError):
            return False
    else:
        import subprocess

        shown = subprocess.run(["ps", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True)
        state, _, command = shown.stdout.strip().partition(" ")
        if shown.returncode != 0 or not state:
            return False
    return not state.startswith("Z") and marker in command


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_server(home: Path) -> ServerRecord | None:
    """The last start recorded under ``home``, or None (never started, or an unreadable file)."""
    data = _load(folder(home) / "server.json")
    try:
        return None if data is None else ServerRecord(
            int(data["pid"]), int(data["watcher"]), int(data["port"]), str(data["model"]), Path(data["log"]),
            int(data["log_offset"]), float(data["started"]))
    except (KeyError, TypeError, ValueError):
        return None


def stop_requested(home: Path, pid: int) -> bool:
    """Whether `flowline local-llm stop` asked the server ``pid`` to end (it writes stop.json first)."""
    data = _load(folder(home) / "stop.json")
    return data is not None and data.get("pid") == pid


def read_exit(home: Path, pid: int) -> ExitRecord | None:
    """How the server process ``pid`` ended: as its watcher saw it end, else (the watcher was gone
    too) as `flowline local-llm stop` asked, when it did."""
    data = _load(folder(home) / "exit.json")
    try:
        if data is not None and int(data["pid"]) == pid:
            return ExitRecord(pid, int(data["returncode"]), float(data["ended"]), stop_requested(home, pid))
    except (KeyError, TypeError, ValueError):
        pass
    if stop_requested(home, pid):
        return ExitRecord(pid, -signal.SIGTERM, (folder(home) / "stop.json").stat().st_mtime, requested=True)
    return None


def log_tail(log_file: Path, offset: int = 0, lines: int = 12) -> list[str]:
    """The last ``lines`` non-empty lines of ``log_file`` after byte ``offset`` (where a start began)."""
    try:
        with log_file.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def duration(seconds: float) -> str:
    """'45 s', '3 min 12 s', '2 h 5 min'."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def start_command(port: int) -> str:
    """The command that starts the server on ``port`` again."""
    return "flowline local-llm start" + ("" if port == DEFAULT_PORT else f" --port {port}")


def _same_endpoint(a: str, b: str) -> bool:
    first, second = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    local = {"127.0.0.1", "localhost", "::1"}
    hosts_match = first.hostname == second.hostname or {first.hostname, second.hostname} <= local
    return hosts_match and first.port == second.port and first.path == second.path


def stopped_message(endpoint: str, home: Path) -> str | None:
    """Why a connection to ``endpoint`` was refused, when ``endpoint`` is the local model's and its
    server is not running: how it ended (signal or exit code, when its watcher saw it), its log and
    the command that restarts it. None when ``endpoint`` is not the local model's or it runs."""
    record = read_server(home)
    if record is None or not _same_endpoint(endpoint, record.base_url) or record.server_running():
        return None
    ended = read_exit(home, record.pid)
    if ended is None:
        how = f"its server (pid {record.pid}) is gone and nothing recorded how it ended"
    elif ended.requested:
        how = f"its server (pid {record.pid}) {ended.reason()}"
    else:
        when = time.strftime("%H:%M:%S", time.localtime(ended.ended))
        how = (f"its server (pid {record.pid}) {ended.reason()} at {when}, "
               f"{duration(ended.ended - record.started)} after it started")
    return (f"the local model stopped: {how}. Its log: {record.log}. "
            f"Restart it with `{start_command(record.port)}`.")
