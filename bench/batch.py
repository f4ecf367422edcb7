"""Batch throughput, Flowline vs promptflow 1.18.5, in one run (by hand: `make bench`).

    .venv/bin/python bench/batch.py [--lines 1000] [--llm-lines 500]

1. A trivial one-node Python flow (bench/flows/one_node) over N lines.
2. An LLM-bound flow (bench/flows/llm_one) over M lines against a local OpenAI-compatible server
   that answers every request in 100 ms; ideal throughput at concurrency C is C / 0.1 s.

Throughput is lines divided by the run's own duration as each tool records it (Flowline: the run
record's duration_ms; promptflow: the run's end_time - start_time), and the wall time of the whole
command is shown too. promptflow runs with its defaults, in its own venv, telemetry and tracing off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from promptflow_env import ensure, environment
from slow_openai import SlowServer

HERE = Path(__file__).resolve().parent
FLOWLINE = [sys.executable, "-m", "flowline"]


def _write_data(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _flowline_run(flow: Path, data: Path, mapping: str, env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.run([*FLOWLINE, "run", "create", "--flow", str(flow), "--data", str(data),
                           "--column-mapping", mapping], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"flowline failed:\n{proc.stderr[-2000:]}")
    record = json.loads(proc.stdout)
    assert record["lines_completed"] == record["lines_total"], record
    return record["duration_ms"] / 1000, wall


_PF_SCRIPT = """
import json, sys
from promptflow.client import PFClient
pf = PFClient()
run = pf.run(flow=sys.argv[1], data=sys.argv[2], column_mapping={sys.argv[3]: "${data." + sys.argv[3] + "}"},
             stream=False)
run = pf.runs.get(run.name)
print(json.dumps({"status": run.status, "start": str(run._start_time), "end": str(run._end_time),
                  "duration": run._end_time and (run._end_time - run._start_time).total_seconds()}))
"""


def _pf_run(pf_bin: Path, flow: Path, data: Path, column: str) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.run([str(pf_bin / "python"), "-c", _PF_SCRIPT, str(flow), str(data), column],
                          capture_output=True, text=True, env=environment())
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"promptflow failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(result["duration"]), wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--llm-lines", type=int, default=500)
    parser.add_argument("--workers", type=int, default=16, help="Flowline's default concurrency")
    args = parser.parse_args()
    pf_bin = ensure()
    home = Path(tempfile.mkdtemp(prefix="flowline-bench-"))
    env = dict(os.environ, FLOWLINE_HOME=str(home))
    results: dict[str, object] = {"date": date.today().isoformat(),
                                  "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, "
                                             f"Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        trivial = _write_data(Path(tmp) / "trivial.jsonl", [{"x": i} for i in range(args.lines)])
        ours, ours_wall = _flowline_run(HERE / "flows" / "one_node", trivial, "x=${data.x}", env)
        theirs, theirs_wall = _pf_run(pf_bin, HERE / "flows" / "one_node", trivial, "x")
        results["trivial"] = {
            "lines": args.lines, "flowline_lines_per_s": round(args.lines / ours, 1),
            "promptflow_lines_per_s": round(args.lines / theirs, 1), "ratio": round(theirs / ours, 1),
            "flowline_wall_s": round(ours_wall, 2), "promptflow_wall_s": round(theirs_wall, 2)}

        server = SlowServer(0.1)
        try:
            subprocess.run([*FLOWLINE, "connection", "create", "--file", "/dev/stdin"], input=(
                f"name: bench_llm\ntype: open_ai\napi_key: bench\nbase_url: {server.url}\n"),
                text=True, env=env, check=True, capture_output=True)
            conn_file = Path(tmp) / "pf_conn.yaml"
            conn_file.write_text(f"name: bench_llm\ntype: open_ai\napi_key: bench\nbase_url: {server.url}\n")
            subprocess.run([str(pf_bin / "pf"), "connection", "create", "--file", str(conn_file)],
                           env=environment(), check=True, capture_output=True)
            llm_data = _write_data(Path(tmp) / "llm.jsonl", [{"question": f"q{i}"} for i in range(args.llm_lines)])
            server.peak = 0
            ours, ours_wall = _flowline_run(HERE / "flows" / "llm_one", llm_data, "question=${data.question}", env)
            ours_peak = server.peak
            server.peak = 0
            theirs, theirs_wall = _pf_run(pf_bin, HERE / "flows" / "llm_one", llm_data, "question")
            theirs_peak = server.peak
        finally:
            server.stop()
        ideal = args.workers / 0.1
        results["llm_bound"] = {
            "lines": args.llm_lines, "server_delay_s": 0.1, "flowline_concurrency": args.workers,
            "flowline_lines_per_s": round(args.llm_lines / ours, 1),
            "flowline_share_of_ideal": round(args.llm_lines / ours / ideal, 3),
            "flowline_peak_in_flight": ours_peak,
            "promptflow_lines_per_s": round(args.llm_lines / theirs, 1), "promptflow_peak_in_flight": theirs_peak,
            "ratio": round(theirs / ours, 1), "flowline_wall_s": round(ours_wall, 2),
            "promptflow_wall_s": round(theirs_wall, 2)}
    results["finished"] = datetime.now().isoformat(timespec="seconds")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
