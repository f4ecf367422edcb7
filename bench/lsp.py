"""Language server latency and memory with a real client over stdio (by hand: `make bench`).

    .venv/bin/python bench/lsp.py [--nodes 300] [--rounds 40]

A generated flow with N python nodes in a chain (30 tool files) is opened; then, per round, one
node's input is edited (didChange) and the time until the matching publishDiagnostics arrives is
taken, and completion is asked after `${` (p50/p95). The server's RSS is read at the end.
"""

from __future__ import annotations

import argparse
import json
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
    client = WireClient(folder)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                            "text": text}})
    client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    diagnostics_ms, completion_ms = [], []
    for round_ in range(args.rounds):
        version = round_ + 2
        target = f"    text: ${{n{round_ % (args.nodes - 1)}.output}}"
        edited = text.replace(target, target + f"\n    n: {round_}", 1)
        time.sleep(0.06)  # a pause between edits, as between a person's changes
        started = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": edited}]})
        published = client.wait_for("textDocument/publishDiagnostics",
                                    lambda p, v=version: p["uri"] == uri and p.get("version") == v)
        diagnostics_ms.append((time.perf_counter() - started) * 1000)
        assert published["params"]["diagnostics"] == [], published
        line = edited.split("\n").index(f"- name: n{(round_ * 7) % args.nodes}") + 6
        column = len("    text: ${")
        started = time.perf_counter()
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": {"line": line, "character": column}})
        completion_ms.append((time.perf_counter() - started) * 1000)
        assert result["items"], result
    rss = client.rss_mb()
    client.close()
    report = {
        "date": date.today().isoformat(), "nodes": args.nodes, "rounds": args.rounds,
        "diagnostics_after_change_ms": {"p50": round(statistics.median(diagnostics_ms), 1),
                                        "p95": round(percentile(diagnostics_ms, 0.95), 1)},
        "completion_ms": {"p50": round(statistics.median(completion_ms), 1),
                          "p95": round(percentile(completion_ms, 0.95), 1)},
        "server_rss_mb": round(rss, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
