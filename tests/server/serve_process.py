"""A real `flowline flow serve` process on 127.0.0.1 for tests: started on a free port (``--port 0``), ready
once it prints its ready line, its stderr kept (access log, errors) for the test to read."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

READY = re.compile(r"^Serving flow '(?P<name>[^']+)' at (?P<url>http://\S+) \(try it: (?P=url)/\)$")


@dataclass
class Served:
    """A running server: ``url`` to call, ``lines`` of its stderr so far, ``wait_for`` a line to come."""

    process: subprocess.Popen[str]
    url: str
    name: str
    lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<exited>")
            self._changed.notify_all()

    def wait_for(self, pattern: str) -> str:
        """The first stderr line matching ``pattern`` (a regex), waiting for it to come; fails if the process
        ends first."""
        regex = re.compile(pattern)
        with self._changed:
            while True:
                found = next((line for line in self.lines if regex.search(line)), None)
                if found is not None:
                    return found
                assert "<exited>" not in self.lines, f"no line matching {pattern!r}:\n" + "\n".join(self.lines)
                self._changed.wait()

    def log(self) -> str:
        """Its stderr so far."""
        with self._changed:
            return "\n".join(self.lines)

    def terminate(self) -> int:
        """SIGTERM, then its exit code once it ended."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_server(flow: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """Start `python -m flowline flow serve --source FLOW --port 0 ARGS` and wait for its ready line.
    Fails (with its stderr) when it exits first."""
    process = subprocess.Popen([sys.executable, "-m", "flowline", "flow", "serve", "--source", str(flow),
                                "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env or dict(os.environ))
    assert process.stderr is not None
    before: list[str] = []
    for line in process.stderr:
        match = READY.match(line.rstrip("\n"))
        if match is not None:
            served = Served(process, match["url"], match["name"], before)
            threading.Thread(target=served._drain, daemon=True).start()
            return served
        before.append(line.rstrip("\n"))
    process.wait()
    raise AssertionError(f"the server exited with {process.returncode} before it was ready:\n" + "\n".join(before))


def run_serve(flow: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`flowline flow serve` expected to refuse at once (an invalid flow, a busy port)."""
    return subprocess.run([sys.executable, "-m", "flowline", "flow", "serve", "--source", str(flow), *args],
                          capture_output=True, text=True, timeout=120)
