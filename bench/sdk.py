"""The Python SDK's overhead, Flowline's Client vs promptflow 1.18.5's PFClient, in one run (by hand).

    .venv/bin/python bench/sdk.py [--tests 10] [--lines 200]

Each SDK is driven from a script in its own interpreter (this file again, with ``--sdk``), so what is
timed is what a user's script sees: importing the client class, then ``test()`` of bench/flows/one_node
(the first call apart from the median of the next N), ``run()`` of it over L lines and ``get_details()``
of that run. Both run with a fresh HOME (their run stores start empty), telemetry and tracing off.
promptflow runs batch lines in spawned processes that import this file again: the work is under the
``__main__`` guard.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLOW = HERE / "flows" / "one_node"


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 4)


def measure(sdk: str, tests: int, data: Path) -> dict[str, Any]:
    """Times of one SDK's calls, in seconds, measured in this process."""
    started = time.perf_counter()
    if sdk == "flowline":
        from flowline import Client as SDKClient
    else:
        from promptflow.client import PFClient as SDKClient
    out: dict[str, Any] = {"import_s": _seconds(started)}
    client = SDKClient()
    started = time.perf_counter()
    assert client.test(flow=str(FLOW), inputs={"x": 2}) == {"y": 4}
    out["first_test_s"] = _seconds(started)
    times = []
    for x in range(tests):
        started = time.perf_counter()
        assert client.test(flow=str(FLOW), inputs={"x": x}) == {"y": 2 * x}
        times.append(time.perf_counter() - started)
    out["test_median_s"] = round(statistics.median(times), 4)
    started = time.perf_counter()
    run = client.run(flow=str(FLOW), data=str(data), column_mapping={"x": "${data.x}"})
    out["run_s"] = _seconds(started)
    started = time.perf_counter()
    details = client.get_details(run)
    out["details_s"] = _seconds(started)
    out["details_rows"] = len(details)
    return out


def _drive(python: str, sdk: str, tests: int, data: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    env = {**os.environ, **extra_env, "HOME": tempfile.mkdtemp(prefix=f"sdk-bench-{sdk}-")}
    proc = subprocess.run([python, __file__, "--sdk", sdk, "--tests", str(tests), "--data", str(data)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{sdk} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--sdk", choices=["flowline", "promptflow"])
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.sdk:
        print(json.dumps(measure(args.sdk, args.tests, Path(args.data))))
        return
    sys.path.insert(0, str(HERE))
    from promptflow_env import ensure, environment

    data = Path(tempfile.mkdtemp(prefix="sdk-bench-data-")) / "data.jsonl"
    data.write_text("".join(json.dumps({"x": i}) + "\n" for i in range(args.lines)))
    ours = _drive(sys.executable, "flowline", args.tests, data, {})
    pf_env = environment()
    theirs = _drive(str(ensure() / "python"), "promptflow", args.tests, data,
                    {k: pf_env[k] for k in ("PF_DISABLE_TELEMETRY", "PF_DISABLE_TRACING")})
    rows = {key: (ours[key], theirs[key], round(theirs[key] / ours[key], 1) if ours[key] else None)
            for key in ("import_s", "first_test_s", "test_median_s", "run_s", "details_s")}
    print(json.dumps({"date": date.today().isoformat(),
                      "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} cores, "
                                 f"Python {platform.python_version()}",
                      "tests": args.tests, "lines": args.lines, "flowline_vs_promptflow_s_and_ratio": rows},
                     indent=2))


if __name__ == "__main__":
    main()
