"""The watcher: runs the local model's server as its child and records how it ended.

``python -m flowline.local_llm.watch --state DIR --port N --model FILE [--cwd DIR] -- COMMAND...``

The process that starts the server (``flowline local-llm start``) exits soon after, so nobody would
be left to collect the server's exit status; without it, a server killed by a signal (an illegal
instruction, the OOM killer, a stray ``kill -9``) would leave only a refused connection behind.
The watcher writes ``server.json`` once the server process exists and ``exit.json`` when it ends;
SIGTERM and SIGINT sent to the watcher are passed on to the server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` at once (a reader never sees half a file)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    """Run the server until it ends; returns 0 (the server's own exit status goes to exit.json)."""
    parser = argparse.ArgumentParser(prog="python -m flowline.local_llm.watch")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--cwd", type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    state: Path = args.state
    log_path = state / "server.log"
    with log_path.open("ab") as log:
        offset = log.tell()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  cwd=args.cwd)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        server.send_signal(signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    started = time.time()
    write_json(state / "server.json", {
        "pid": server.pid, "watcher": os.getpid(), "port": args.port, "model": args.model,
        "log": str(log_path), "log_offset": offset, "started": started})
    returncode = server.wait()
    write_json(state / "exit.json", {"pid": server.pid, "returncode": returncode, "ended": time.time()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
