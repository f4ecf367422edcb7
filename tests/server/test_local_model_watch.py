"""How the local model's watcher records the end of a server, and what a refused connection then
says. A stand-in command plays the server, so these run without llama.cpp."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from flowline.local_llm.state import ExitRecord, read_exit, read_server, stopped_message


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
    assert message.startswith(f"the local model stopped: its server (pid {record.pid}) was killed by SIGILL "
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
