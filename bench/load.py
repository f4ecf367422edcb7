"""A load generator for HTTP endpoints, run in its own process by bench/serve.py.

    .venv/bin/python bench/load.py URL --requests 2000 --concurrency 100 --body '{"text": "x"}'
        --expect '{"answer": "x"}'

POSTs the body ``--requests`` times, ``--concurrency`` at once, over that many keep-alive connections
(aiohttp's client). A request counts as an error when it raises, times out, answers other than 200 or
answers a JSON body other than ``--expect``. Prints one JSON object: requests, errors (and up to five of
their reasons), the wall time, requests per second (completed requests over the wall time) and latency
percentiles in ms.

aiohttp rather than httpx (which the `openai` package brings): on 2 cores the load generator shares the
CPU with the server, and httpx's async client spent about 2.5 ms of CPU per request here (its pool scans
every connection for each request), aiohttp's about 0.4 ms, less than the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp


def _percentile(sorted_ms: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(share * len(sorted_ms)) - 1))]


async def run(url: str, requests: int, concurrency: int, body: Any, expect: Any, timeout_s: float) -> dict[str, Any]:
    """Sends ``requests`` POSTs of ``body`` with ``concurrency`` in flight; the summary described above."""
    latencies: list[float] = []
    reasons: list[str] = []
    errors = 0
    next_index = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:

        async def worker() -> None:
            nonlocal next_index, errors
            while next_index < requests:
                next_index += 1  # one event loop: no other worker runs between the test and this line
                started = time.perf_counter()
                try:
                    async with session.post(url, json=body) as response:
                        good = response.status == 200 and (expect is None or await response.json() == expect)
                        reason = None if good else f"{response.status}: {(await response.text())[:200]}"
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                    reason = f"{type(error).__name__}: {error}"
                if reason is None:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1
                    if len(reasons) < 5:
                        reasons.append(reason)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": requests, "concurrency": concurrency, "errors": errors, "error_samples": reasons,
        "wall_s": round(wall, 3), "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1), "p95_ms": round(_percentile(latencies, 0.95), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--body", default="{}", help="the JSON body of every request")
    parser.add_argument("--expect", default=None, help="the JSON every answer must be (default: any 200)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one request may take")
    args = parser.parse_args()
    expect = json.loads(args.expect) if args.expect is not None else None
    summary = asyncio.run(run(args.url, args.requests, args.concurrency, json.loads(args.body), expect, args.timeout))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
