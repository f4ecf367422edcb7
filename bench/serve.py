"""Serving throughput, Flowline vs promptflow 1.18.5, in one run (by hand: `make bench`).

    .venv/bin/python bench/serve.py [--requests 2000] [--concurrency 100] [--flowline-workers N]

Two flows whose one Python tool stands for a dependency that answers in 100 ms:
bench/flows/serve_async (`await asyncio.sleep(0.1)`) and bench/flows/serve_sync (`time.sleep(0.1)`).
Each is served on 127.0.0.1 by `flowline flow serve` and by `pf flow serve --engine fastapi`
(promptflow's FastAPI engine, in its own venv, telemetry and tracing off), one server at a time.
After 200 warm-up requests, bench/load.py (its own process) POSTs N requests to /score with C in
flight; every answer must be the flow's output. Ideal throughput is C / 0.1 s (1,000 req/s at 100).
Prints one JSON object: per case and tool, requests/s, p50/p95/p99 in ms and errors, and the ratios (with the
machine's load averages at the start and the end).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import date, datetime
from pathlib import Path
from typing import Any

from promptflow_env import ensure, ensure_module, environment

HERE = Path(__file__).resolve().parent
CASES = {"async": HERE / "flows" / "serve_async", "sync": HERE / "flows" / "serve_sync"}
BODY = {"text": "ping"}
EXPECT = {"answer": "ping"}
READY = re.compile(r"Serving flow '.*' at (http://\S+)")
START_LIMIT_S = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A server process; its output is drained (and the last lines kept) so it never blocks on a full pipe."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.command = command
        self.tail: deque[str] = deque(maxlen=30)
        self.ready = threading.Event()
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.tail.append(line.rstrip())
            if READY.search(line):
                self.ready.set()

    def fail(self, why: str) -> SystemExit:
        return SystemExit(f"{why}: {' '.join(self.command)}\n" + "\n".join(self.tail))

    def wait_ready_line(self) -> None:
        """Flowline says when it serves: one line on stderr."""
        if not self.ready.wait(START_LIMIT_S) or self.process.poll() is not None:
            raise self.fail("flowline flow serve did not become ready")

    def wait_health(self, url: str) -> None:
        """promptflow prints no ready line: its /health answering 200 is the sign."""
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1) as conn:
                    conn.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if conn.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise self.fail("pf flow serve did not answer /health")

    def stop(self) -> int:
        """SIGTERM, then up to 30 s for the process to end (killed after that); its exit code."""
        self.process.terminate()
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _load(url: str, requests: int, concurrency: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(HERE / "load.py"), f"{url}/score", "--requests", str(requests),
                           "--concurrency", str(concurrency), "--body", json.dumps(BODY),
                           "--expect", json.dumps(EXPECT)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _measure(server: Server, url: str, requests: int, concurrency: int) -> dict[str, Any]:
    try:
        _load(url, 200, concurrency)  # warm-up: connections, first-call paths, the thread pool
        result = _load(url, requests, concurrency)
    finally:
        exit_code = server.stop()
    result["exit_code"] = exit_code
    return result


def _flowline(flow: Path, requests: int, concurrency: int, workers: int | None, home: Path) -> dict[str, Any]:
    port = _free_port()
    command = [sys.executable, "-m", "flowline", "flow", "serve", "--source", str(flow), "--host", "127.0.0.1",
               "--port", str(port)] + (["--workers", str(workers)] if workers else [])
    server = Server(command, dict(os.environ, FLOWLINE_HOME=str(home)))
    server.wait_ready_line()
    return _measure(server, f"http://127.0.0.1:{port}", requests, concurrency)


def _promptflow(pf_bin: Path, flow: Path, requests: int, concurrency: int, home: Path) -> dict[str, Any]:
    port = _free_port()
    env = dict(environment(), HOME=str(home))
    server = Server([str(pf_bin / "pf"), "flow", "serve", "--source", str(flow), "--host", "127.0.0.1",
                     "--port", str(port), "--engine", "fastapi", "--skip-open-browser"], env, cwd=home)
    server.wait_health(f"http://127.0.0.1:{port}")
    return _measure(server, f"http://127.0.0.1:{port}", requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--flowline-workers", type=int, default=None,
                        help="flowline flow serve --workers (default: the server's own)")
    parser.add_argument("--only", choices=["flowline", "promptflow"], help="measure one tool alone")
    args = parser.parse_args()
    pf_bin = ensure()
    ensure_module(pf_bin, "uvicorn", "uvicorn")
    with tempfile.TemporaryDirectory(prefix="flowline-bench-serve-") as tmp:
        results = _run(args, pf_bin, Path(tmp))
    print(json.dumps(results, indent=2))


def _run(args: argparse.Namespace, pf_bin: Path, home: Path) -> dict[str, Any]:
    # promptflow reads telemetry consent from ~/.promptflow; a private HOME keeps the user's untouched.
    subprocess.run([str(pf_bin / "pf"), "config", "set", "telemetry.enabled=false"],
                   env=dict(environment(), HOME=str(home)), capture_output=True, check=True)
    ideal = args.concurrency / 0.1
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "requests": args.requests, "concurrency": args.concurrency, "tool_delay_s": 0.1, "ideal_requests_per_s": ideal,
        # Other work on the machine moves both tools' numbers (promptflow's most: it is CPU-bound); said with them.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    for case, flow in CASES.items():
        row: dict[str, Any] = {}
        if args.only != "promptflow":
            row["flowline"] = _flowline(flow, args.requests, args.concurrency, args.flowline_workers, home)
            row["flowline_share_of_ideal"] = round(row["flowline"]["requests_per_s"] / ideal, 3)
        if args.only != "flowline":
            row["promptflow"] = _promptflow(pf_bin, flow, args.requests, args.concurrency, home)
        if "flowline" in row and "promptflow" in row:
            row["ratio"] = round(row["flowline"]["requests_per_s"] / max(row["promptflow"]["requests_per_s"], 0.1), 1)
        results[case] = row
        print(f"{case}: {json.dumps(row)}", file=sys.stderr)
    results["finished"] = datetime.now().isoformat(timespec="seconds")
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


if __name__ == "__main__":
    main()
