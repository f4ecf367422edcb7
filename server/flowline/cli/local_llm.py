"""``flowline local-llm start|stop|status``: the local model server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowline.cli.args import EXIT_FAILED, EXIT_OK, Parser, port


def cmd_local_llm(args: argparse.Namespace) -> int:
    """``flowline local-llm start|stop|status``: the local SmolLM2 server and its `local` connection.

    ``start`` exits 1 when the server does not answer a chat completion (the reason and the last lines
    of its log on stderr); ``status`` prints the report on stdout and exits 0 when the server runs,
    3 when it does not (as ``pg_ctl status`` does)."""
    from flowline.local_llm import control

    if args.action == "status":
        report = control.status()
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n" if args.json
                         else "\n".join(report.lines()) + "\n")
        return EXIT_OK if report.running else 3
    try:
        model = Path(args.model).resolve() if args.model else None
        message = control.start(args.port, model) if args.action == "start" else control.stop()
    except control.LocalModelError as exc:
        sys.stderr.write(f"flowline: error: {exc}\n")
        return EXIT_FAILED
    sys.stderr.write(message + "\n")
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline local-llm``."""
    local = groups.add_parser("local-llm", help="start, stop or inspect the local model (SmolLM2 via llama.cpp)")
    local.add_argument("action", choices=("start", "stop", "status"))
    local.add_argument("--port", type=port, default=8181, help="port on 127.0.0.1 (default 8181)")
    local.add_argument("--model", help="a GGUF file to serve instead of SmolLM2-135M (start)")
    local.add_argument("--json", action="store_true", help="the status as a JSON object (status)")
    local.set_defaults(handler=cmd_local_llm)
