"""Batch runs on Ray against the local engine, in one run (by hand).

    .venv/bin/python bench/scale.py [--lines 20000] [--llm-lines 2000] [--in-flight 64] [--repeat 5]

1. Trivial: bench/flows/one_node over N lines.
2. LLM-bound: bench/flows/llm_one over M lines against bench/slow_openai.py (100 ms per answer, 127.0.0.1).

Each runs with the local engine, then with `--engine ray` on 1 and on 2 worker processes of a Ray head started
here on 127.0.0.1 (`ray start --head`, two CPUs), with the same total lines in flight (`--in-flight`: the
local engine's `--workers`; each Ray worker gets its share). Throughput is lines divided by the run's own
duration (its record's duration_ms) less, for Ray, its fixed costs, printed apart: start-up (importing Ray,
staging the flow, reaching the cluster, loading the flow in the workers: "ray: ... ready in X s" in the run's
logs.txt) and shut-down ("ray: shut down in X s"). Each case runs `--repeat` times, in rounds (local, Ray
on 1, Ray on 2, then again); the run of median throughput is shown, with all the throughputs measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from slow_openai import SlowServer

HERE = Path(__file__).resolve().parent
FLOWLINE = [sys.executable, "-m", "flowline"]
RAY = Path(sys.executable).parent / "ray"
# One machine: Ray keeps to 127.0.0.1 (the variable's name speaks of macOS and Windows, where that is the default).
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def _run(env: dict[str, str], flow: Path, data: Path, mapping: str, *engine: str) -> dict[str, Any]:
    proc = subprocess.run([*FLOWLINE, "run", "create", "--flow", str(flow), "--data", str(data), "--column-mapping",
                           mapping, *engine], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"flowline failed:\n{proc.stderr[-3000:]}")
    record: dict[str, Any] = json.loads(proc.stdout)
    assert record["lines_completed"] == record["lines_total"], record
    log = (Path(record["folder"]) / "logs.txt").read_text() if (Path(record["folder"]) / "logs.txt").is_file() else ""
    ready = re.search(r"ray: \d+ worker process\(es\) ready in ([\d.]+) s", log)
    ended = re.search(r"ray: shut down in ([\d.]+) s", log)
    startup = float(ready.group(1)) if ready else 0.0
    shutdown = float(ended.group(1)) if ended else 0.0
    seconds = record["duration_ms"] / 1000 - startup - shutdown
    return {"lines_per_s": round(record["lines_total"] / seconds, 1), "startup_s": round(startup, 2),
            "shutdown_s": round(shutdown, 2), "run_s": round(seconds, 2)}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median throughput among ``runs``, with every throughput measured."""
    runs = sorted(runs, key=lambda r: float(r["lines_per_s"]))
    return {**runs[len(runs) // 2], "all_lines_per_s": [r["lines_per_s"] for r in runs]}


def _case(env: dict[str, str], address: str, flow: Path, data: Path, mapping: str, in_flight: int,
          repeat: int) -> dict[str, Any]:
    engines: dict[str, tuple[str, ...]] = {"local": ("--workers", str(in_flight))}
    for workers in (1, 2):
        engines[f"ray_{workers}_workers"] = ("--engine", "ray", "--ray-address", address, "--ray-workers", str(workers),
                                             "--workers", str(in_flight // workers))
    # Rounds of one run of each engine, so that what drifts on the machine over the case weighs on all alike.
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    for _ in range(repeat):
        for name, engine in engines.items():
            runs[name].append(_run(env, flow, data, mapping, *engine))
    out = {name: _median(measured) for name, measured in runs.items()}
    for name in engines:
        if name != "local":
            out[name]["ratio_to_local"] = round(out[name]["lines_per_s"] / out["local"]["lines_per_s"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--llm-lines", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case; the median is kept")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="flowline-scale-"))
    temp = Path(tempfile.mkdtemp(prefix="flr-"))  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, **LOOPBACK, "FLOWLINE_HOME": str(home)}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run([str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                    "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"], env=env, check=True,
                   capture_output=True)
    address = f"127.0.0.1:{port}"
    results: dict[str, Any] = {"date": date.today().isoformat(),
                               "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, "
                                          f"Python {platform.python_version()}", "in_flight": args.in_flight}
    server = SlowServer(0.1)
    try:
        data = home / "trivial.jsonl"
        data.write_text("".join(json.dumps({"x": i}) + "\n" for i in range(args.lines)))
        results["trivial"] = {"lines": args.lines, **_case(env, address, HERE / "flows" / "one_node", data,
                                                             "x=${data.x}", args.in_flight, args.repeat)}
        subprocess.run([*FLOWLINE, "connection", "create", "--file", "/dev/stdin"], env=env, check=True, text=True,
                       capture_output=True,
                       input=f"name: bench_llm\ntype: open_ai\napi_key: bench\nbase_url: {server.url}\n")
        data = home / "llm.jsonl"
        data.write_text("".join(json.dumps({"question": f"q{i}"}) + "\n" for i in range(args.llm_lines)))
        results["llm_bound"] = {"lines": args.llm_lines, "server_delay_s": 0.1,
                                "ideal_lines_per_s": args.in_flight / 0.1,
                                **_case(env, address, HERE / "flows" / "llm_one", data, "question=${data.question}",
                                        args.in_flight, args.repeat)}
    finally:
        server.stop()
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
