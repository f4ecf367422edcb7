"""``flowline flow serve``: the flow as an HTTP endpoint (registered by :mod:`flowline.cli.flow`).

Starlette and uvicorn are imported only here, when the command runs, so other commands start as fast.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable

from flowline.cli.args import EXIT_USAGE, Parser, UsageError, environment, flow_file, pairs

PORT_VARIABLE = "FLOWLINE_PORT"
"""The environment variable that gives the port when ``--port`` is not given (a built image sets it, and its
health check asks that port)."""
NAME_VARIABLE = "FLOWLINE_FLOW_NAME"
"""The environment variable that names the served flow when ``--name`` is not given (a build's entry script
sets it: its snapshot folder is called ``flow``)."""


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
        if not value > 0 or not math.isfinite(value):  # nan and inf are floats, but no number of seconds
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        return value

    return parse


def _port(text: str) -> int:
    """``--port``: 0 (a free port) to 65535, written any way ``int`` reads (``00``, ``08080``)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port: give a number from 0 (a free one) to 65535")
    return number


def write_error(message: str) -> None:
    """A load or build error on stderr: a listing of problems (``file:line:col: error: ...``) as it is, then
    the last line as ``flowline: error: ...``, as every other command's error."""
    *listing, last = message.rstrip("\n").split("\n")
    sys.stderr.write("".join(f"{line}\n" for line in listing) + f"flowline: error: {last}\n")


def cmd_flow_serve(args: argparse.Namespace) -> int:
    """``flowline flow serve``: serve the flow until SIGTERM or Ctrl-C (exit code 0); 2 when it cannot be served."""
    try:
        from flowline.serve.config import ServeConfig
        from flowline.serve.served import ServeLoadError
        from flowline.serve.server import ServeBindError, serve
    except ImportError as exc:  # an interpreter that has flowline without its serving dependencies
        raise UsageError(f"flow serve needs Starlette and uvicorn ({exc}); install them: "
                         "python -m pip install starlette uvicorn") from exc

    path = flow_file(args.source)  # a file given is the flow served, as `flow test --flow FILE` runs it
    name = args.name or os.environ.get(NAME_VARIABLE) or None
    listen = args.port
    if listen is None:
        try:
            listen = _port(os.environ.get(PORT_VARIABLE) or "8080")
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"{PORT_VARIABLE}: {exc}") from exc
    config = ServeConfig(path.absolute(), connection_overrides(args.connections),
                         environment(args.environment_variables), args.workers, args.request_timeout,
                         args.max_body_size, name=name, allow_private_urls=args.allow_private_urls)
    try:
        return serve(config, args.host, listen, args.grace_period)
    except ServeLoadError as exc:
        write_error(str(exc))
        return EXIT_USAGE
    except ServeBindError as exc:
        raise UsageError(str(exc)) from exc


def add_parser(flow_cmds: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline flow serve``."""
    from flowline.serve.config import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WORKERS

    serve = flow_cmds.add_parser("serve", help="serve the flow as an HTTP endpoint (POST /score, a test page at /)")
    serve.add_argument("--source", required=True, help="flow folder, or the flow file itself")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                                                           "only; 0.0.0.0 for every network)")
    serve.add_argument("--port", type=_port, default=None,
                       help=f"port to listen on (default ${PORT_VARIABLE}, else 8080; 0: a free one, named in the "
                            "ready line)")
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
                       help="seconds (fractions too) requests in flight get to finish after SIGTERM or Ctrl-C "
                            "(default 30); then they get 503")
    serve.add_argument("--name", help=f"the flow's name in the ready line, swagger and OpenAI's model (default: "
                                      f"${NAME_VARIABLE}, else the flow folder's name)")
    serve.add_argument("--allow-private-urls", action="store_true",
                       help="fetch image inputs given by URL from loopback, private and link-local addresses too "
                            "(refused by default: a caller could reach this machine's network)")
    serve.set_defaults(handler=cmd_flow_serve)
