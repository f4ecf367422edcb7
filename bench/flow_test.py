"""`flow test` of a one-node Python flow, cold process each time: Flowline vs promptflow 1.18.5.

    make bench            (or: .venv/bin/python bench/flow_test.py [--runs 10])

Prints the median wall time of N cold runs of each, and the ratio. The flow is
bench/flows/one_node (its tool imports `promptflow`, so both tools run the same files).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from promptflow_env import ensure, environment

FLOW = Path(__file__).resolve().parent / "flows" / "one_node"


def _time(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def measure(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall times of ``runs`` cold processes (after one warm-up to fill the OS file cache)."""
    _time(command, env)
    return [_time(command, env) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    flowline = shutil.which("flowline", path=str(Path(sys.executable).parent)) or "flowline"
    ours = measure([flowline, "flow", "test", "--flow", str(FLOW), "--inputs", "x=2"], args.runs)
    pf_bin = ensure()
    theirs = measure([str(pf_bin / "pf"), "flow", "test", "--flow", str(FLOW), "--inputs", "x=2"], args.runs,
                     environment())
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "runs": args.runs,
        "flowline_median_s": round(statistics.median(ours), 3),
        "promptflow_median_s": round(statistics.median(theirs), 3),
    }
    result["speedup"] = round(result["promptflow_median_s"] / result["flowline_median_s"], 1)
    print(json.dumps(result, indent=2))
    budget = "within" if result["flowline_median_s"] <= 0.3 else "OVER"
    print(f"flowline flow test: {result['flowline_median_s']} s median ({budget} the 0.3 s budget); "
          f"promptflow: {result['promptflow_median_s']} s; {result['speedup']}x faster", file=sys.stderr)


if __name__ == "__main__":
    main()
