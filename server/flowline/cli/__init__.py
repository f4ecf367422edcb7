"""The ``flowline`` command tree (shaped like ``pf``): stdout carries data, stderr is for people.
One module per command group registers its commands (``add_parser``); ``args`` holds what they share.

Exit codes: 0 success, 1 a run that failed, 2 an invalid flow or bad arguments.
"""

from __future__ import annotations

import argparse
import sys

from flowline.cli import connection, flow, local_llm, lsp, run, script, tool
from flowline.cli.args import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, UsageError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = Parser(prog="flowline", description="Author, run and validate Prompt-flow-style flows.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    groups = parser.add_subparsers(dest="group", parser_class=Parser)
    for group in (flow, connection, run, tool, lsp, local_llm, script):
        group.add_parser(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from flowline import __version__

            sys.stdout.write(f"flowline {__version__}\n")
            return EXIT_OK
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(handler(args))
    except UsageError as exc:
        sys.stderr.write(f"flowline: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("flowline: interrupted\n")
        return 130
