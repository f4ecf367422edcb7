"""``flowline lsp``: the language server."""

from __future__ import annotations

import argparse

from flowline.cli.args import EXIT_OK, Parser


def cmd_lsp(args: argparse.Namespace) -> int:
    """``flowline lsp``: the language server on stdin/stdout."""
    from flowline.lsp.server import main as serve

    serve(args.log_level)
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline lsp``."""
    lsp = groups.add_parser("lsp", help="run the language server on stdin/stdout (its log goes to stderr)")
    lsp.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning",
                     help="debug also logs each validation pass and its time (default: warning)")
    lsp.set_defaults(handler=cmd_lsp)
