"""A sample chat flow answered by the real local model (SmolLM2-135M behind llama.cpp's server).

`make test` installs the model (`make local-llm-install`); this test starts the server itself on a
free port, with its own FLOWLINE_HOME, and stops it afterwards.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli

pytest.importorskip("llama_cpp", reason="the local model is installed by `make local-llm-install`")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def local_model() -> Iterator[int]:
    port = _free_port()
    started = run_cli("local-llm", "start", "--port", str(port))
    assert started.code == 0, started.stderr
    try:
        yield port
    finally:
        assert run_cli("local-llm", "stop").code == 0


def test_chat_sample_answers_with_usage(local_model: int, tmp_path: Path) -> None:
    shown = run_cli("connection", "show", "--name", "local")
    assert shown.json()["configs"]["base_url"] == f"http://127.0.0.1:{local_model}/v1"
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(SAMPLES / "chat-basic"), "--no-stream",
                     "--inputs", "question=What color is the sky?", "--events", str(events_file))
    assert result.code == 0, result.stderr
    answer = result.json()["answer"]
    assert isinstance(answer, str) and answer.strip()
    run_end = json.loads(events_file.read_text().splitlines()[-1])
    assert run_end["tokens"]["prompt"] > 0 and run_end["tokens"]["completion"] > 0
    assert run_end["tokens"]["total"] == run_end["tokens"]["prompt"] + run_end["tokens"]["completion"]


def test_start_is_idempotent(local_model: int) -> None:
    again = run_cli("local-llm", "start", "--port", str(local_model))
    assert again.code == 0
    assert "already running" in again.stderr
