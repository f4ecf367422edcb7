"""Language server latency and memory with a real client over stdio (by hand: `make bench`).

    .venv/bin/python bench/lsp.py [--nodes 300] [--rounds 40]

A generated flow with N python nodes in a chain (30 tool files) is opened; then, per round, one
node gets a new input line (didChange) and then a character typed into that line, and for each
change the time until the matching publishDiagnostics arrives is taken, both as the client sees it
and as the server logs it (from reading the change to sending the diagnostics; the server runs
with `--log-level debug`). Completion is asked after `${` (p50/p95). The server's RSS is read at
the end.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))
from lsp_wire import WireClient  # noqa: E402  (the test suite's stdio client)


def make_flow(folder: Path, nodes: int) -> str:
    (folder / "tools").mkdir(parents=True)
    for j in range(30):
        (folder / "tools" / f"t{j}.py").write_text(
            f"from flowline import tool\n\n\n@tool\ndef t{j}(text: str, n: int = 1) -> str:\n    return text * n\n")
    lines = ["inputs:", "  text:", "    type: string", "    default: x", "outputs:", "  out:",
             f"    reference: ${{n{nodes - 1}.output}}", "nodes:"]
    for i in range(nodes):
        previous = "${inputs.text}" if i == 0 else f"${{n{i - 1}.output}}"
        lines += [f"- name: n{i}", "  type: python", "  source:", "    type: code", f"    path: tools/t{i % 30}.py",
                  "  inputs:", f"    text: {previous}"]
    return "\n".join(lines) + "\n"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    """p50 and p95 of a list of milliseconds."""
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1)}


_SERVER_TIME = re.compile(r"diagnostics \S+ v(\d+): \d+ problems, ([\d.]+) ms after the change")
_SERVER_COMPLETION = re.compile(r"completion \S+ \d+:\d+: \d+ items in ([\d.]+) ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="flowline-lsp-bench-"))
    text = make_flow(folder, args.nodes)
    path = folder / "flow.dag.yaml"
    path.write_text(text)
    uri = path.as_uri()
    client = WireClient(folder, "--log-level", "debug")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                            "text": text}})
    client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    seen: dict[str, list[float]] = {"new line": [], "typing": []}
    kinds: dict[int, str] = {}
    completion_ms = []
    version = 1
    for round_ in range(args.rounds):
        target = f"    text: ${{n{(round_ * 7) % (args.nodes - 1)}.output}}"
        with_line = text.replace(target, target + f"\n    n: {round_}", 1)
        text = with_line.replace(f"\n    n: {round_}\n", f"\n    n: {round_}1\n", 1)
        for kind, edited in (("new line", with_line), ("typing", text)):
            version += 1
            kinds[version] = kind
            time.sleep(0.06)  # a pause between edits, as between a person's changes
            started = time.perf_counter()
            client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                     "contentChanges": [{"text": edited}]})
            published = client.wait_for("textDocument/publishDiagnostics",
                                        lambda p, v=version: p["uri"] == uri and p.get("version") == v)
            seen[kind].append((time.perf_counter() - started) * 1000)
            assert published["params"]["diagnostics"] == [], published
        line = text.split("\n").index(f"- name: n{(round_ * 11) % args.nodes}") + 6
        started = time.perf_counter()
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": {"line": line, "character": 12}})
        completion_ms.append((time.perf_counter() - started) * 1000)
        assert result["items"], result
    rss = client.rss_mb()
    log = client.close()
    server: dict[str, list[float]] = {"new line": [], "typing": []}
    for match in _SERVER_TIME.finditer(log):
        if int(match[1]) in kinds:
            server[kinds[int(match[1])]].append(float(match[2]))
    report = {
        "date": date.today().isoformat(), "nodes": args.nodes, "rounds": args.rounds,
        "diagnostics_after_change_ms": {
            "server": {kind: summary(values) for kind, values in server.items()},
            "client": {kind: summary(values) for kind, values in seen.items()},
        },
        "completion_ms": {"server": summary([float(m[1]) for m in _SERVER_COMPLETION.finditer(log)]),
                          "client": summary(completion_ms)},
        "server_rss_mb": round(rss, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
