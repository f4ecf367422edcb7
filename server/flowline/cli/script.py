"""``flowline exec SCRIPT [ARGS...]``: run a Python script written against promptflow's SDK, unchanged.

The script runs in this process as ``python SCRIPT ARGS...`` would run it (``__name__ == "__main__"``,
``sys.argv``, its folder first on ``sys.path``), with ``import promptflow`` (``promptflow.client.PFClient``,
``promptflow.entities``...) served by Flowline's stand-in (:mod:`flowline.compat.shim`). Only that process
sees the stand-in: nothing is installed where promptflow itself would be, so a machine that has promptflow
keeps it for everything else.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

from flowline.cli.args import EXIT_OK, Parser, UsageError


def cmd_exec(args: argparse.Namespace) -> int:
    """Run the script; its own exit code (``sys.exit``) is the command's, an exception it does not handle
    prints its traceback and exits 1, as ``python SCRIPT`` would."""
    from flowline.compat import shim

    path = Path(args.script)
    if not path.is_file():
        raise UsageError(f"exec: no script at '{args.script}'.")
    shim.install()
    sys.argv = [str(path), *args.args]
    sys.path.insert(0, str(path.resolve().parent))
    runpy.run_path(str(path), run_name="__main__")
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline exec``."""
    command = groups.add_parser("exec", help="run a Python script written for promptflow's SDK (PFClient) on Flowline")
    command.add_argument("script", help="the script (.py)")
    command.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    command.set_defaults(handler=cmd_exec)
