"""``flowline flow serve``: the flow as an HTTP endpoint (registered by :mod:`flowline.cli.flow`).

Starlette and uvicorn are imported only here, when the command runs, so other commands start as fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from flowline.cli.args import EXIT_USAGE, Parser, UsageError, environment, flow_file, pairs, port


def connection_overrides(items: list[str] | None) -> dict[str, dict[str, str]]:
    """``--connections node.connection=NAME`` (or ``node.<input>=value``) as ``{node: {field: value}}``."""
    overrides: dict[str, dict[str, str]] = {}
    for key, value in pairs(items, "--connections").items():
        node, sep, field = key.partition(".")
        if not sep or not node or not field:
            raise UsageError(f"--connections: '{key}' must be <node>.connection=<name> or <node>.<input>=...")
        overrides.setdefault(node, {})[field] = value
    return overrides


def _positive(kind: type[int] | type[float], what: str) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        return value

    return parse


def cmd_flow_serve(args: argparse.Namespace) -> int:
    """``flowline flow serve``: serve the flow until SIGTERM or Ctrl-C (exit code 0); 2 when it cannot be served."""
    try:
        from flowline.serve.config import ServeConfig
        from flowline.serve.served import ServeLoadError
        from flowline.serve.server import ServeBindError, serve
    except ImportError as exc:  # an interpreter that has flowline without its serving dependencies
        raise UsageError(f"flow serve needs Starlette and uvicorn ({exc}); install them: "
                         "python -m pip install starlette uvicorn") from exc

    path = flow_file(args.source)
    config = ServeConfig(path.parent.absolute(), connection_overrides(args.connections),
                         environment(args.environment_variables), args.workers, args.request_timeout,
                         args.max_body_size)
    try:
        return serve(config, args.host, args.port, args.grace_period)
    except ServeLoadError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except ServeBindError as exc:
        raise UsageError(str(exc)) from exc


def add_parser(flow_cmds: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline flow serve``."""
    from flowline.serve.config import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WORKERS

    serve = flow_cmds.add_parser("serve", help="serve the flow as an HTTP endpoint (POST /score, a test page at /)")
    serve.add_argument("--source", required=True, help="flow folder (or its flow.dag.yaml)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                                                           "only; 0.0.0.0 for every network)")
    serve.add_argument("--port", type=lambda text: 0 if text == "0" else port(text), default=8080,
                       help="port to listen on (default 8080; 0: a free one, named in the ready line)")
    serve.add_argument("--workers", type=_positive(int, "a whole number above 0"), default=DEFAULT_WORKERS,
                       help=f"threads that run sync tools (default {DEFAULT_WORKERS})")
    serve.add_argument("--connections", nargs="+", action="extend", metavar="NODE.connection=NAME",
                       help="use another stored connection for a node")
    serve.add_argument("--environment-variables", nargs="+", action="extend", metavar="K=V|FILE.env",
                       help="set for the flow, over its environment_variables; K='${conn.field}' reads a connection")
    serve.add_argument("--request-timeout", type=_positive(float, "a number of seconds above 0"),
                       default=DEFAULT_REQUEST_TIMEOUT,
                       help=f"seconds a request may run (default {DEFAULT_REQUEST_TIMEOUT:g}); then it gets 504")
    serve.add_argument("--max-body-size", type=_positive(int, "a number of bytes above 0"),
                       default=DEFAULT_MAX_BODY_BYTES, metavar="BYTES",
                       help=f"largest request body taken (default {DEFAULT_MAX_BODY_BYTES}); larger ones get 413")
    serve.add_argument("--grace-period", type=_positive(float, "a number of seconds above 0"), default=30.0,
                       help="seconds requests in flight get to finish after SIGTERM or Ctrl-C (default 30)")
    serve.set_defaults(handler=cmd_flow_serve)
