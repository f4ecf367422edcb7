"""Running a served flow: uvicorn on a socket bound first (so a busy port is one clear line), a ready line on
stderr once requests are taken, one access log line per request, and SIGTERM/SIGINT ending it gracefully.

On SIGTERM or SIGINT the server stops accepting connections, lets the requests in flight finish (up to the
grace period; those still running then are canceled) and returns 0. A second SIGINT ends it at once. uvicorn
itself would raise the signal again once it has shut down, so the process would die by it (exit status 143
for SIGTERM); a container's stop or a terminal's Ctrl-C is the normal end of a server, hence 0.
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
import sys
from types import FrameType

import uvicorn

from flowline.flow.build import resolve_flow_path
from flowline.serve.access import TIME_FORMAT
from flowline.serve.app import create_app
from flowline.serve.config import ServeConfig

DEFAULT_GRACE_PERIOD = 30.0
"""Seconds in-flight requests get to finish after SIGTERM (Docker's own stop waits 10 s unless told more)."""

log = logging.getLogger("flowline.serve")


def url(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ServeBindError(Exception):
    """The address cannot be listened on; the message says which and why."""


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free port the system picks). Raises :class:`ServeBindError`."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServeBindError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = " (another process uses it: choose another with --port)" if exc.errno in (98, 48, 10048) else ""
        raise ServeBindError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}{hint}.") from exc
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: str, grace_period: float) -> None:
        super().__init__(config)
        self._ready = ready
        self._grace_period = grace_period

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            sys.stderr.write(self._ready + "\n")
            sys.stderr.flush()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not recorded for uvicorn to raise again after the shutdown (see the module).
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("Stopping: no new requests; the ones in flight get up to %g s to finish.", self._grace_period)
        await super().shutdown(sockets)
        log.info("Stopped.")


def configure_logging() -> None:
    """Log lines (warnings, errors) on stderr, one per line with the time, as the access log's
    (:mod:`flowline.serve.access`); uvicorn's own only from warnings up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", TIME_FORMAT))
    for name, level in (("flowline.serve", logging.INFO), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _tune_collector() -> None:
    """Set the cyclic garbage collector for serving (this process only serves from here on).

    A hundred requests in flight keep thousands of young objects alive, and each collection of the youngest
    generation walks them all: at the default threshold (700 allocations) that ran every dozen requests and took
    about 15 % of the server's CPU (0.05 ms a request, bench/serve.py). Collections 14 times rarer cost about as
    much each, since garbage is mostly freed by reference counting. What start-up loaded (libraries, the flow's
    tools) stays for the server's life: frozen, the oldest generation's collections no longer walk it."""
    gc.freeze()
    gc.set_threshold(10_000)


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8080,
          grace_period: float = DEFAULT_GRACE_PERIOD) -> int:
    """Serve ``config.flow`` on ``host:port`` until SIGTERM or SIGINT; returns the exit code (0).

    Raises :class:`flowline.serve.served.ServeLoadError` (the flow cannot be served) and
    :class:`ServeBindError` before anything is served. The ready line is
    ``Serving flow '<name>' at http://<host>:<port> (try it: http://<host>:<port>/)``."""
    configure_logging()
    # The name before the tools load: they change directory.
    name = config.name or resolve_flow_path(config.flow).absolute().parent.name
    app = create_app(config)
    _tune_collector()
    sock = bind(host, port)
    where = url(host, sock.getsockname()[1])
    settings = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                              timeout_graceful_shutdown=grace_period)  # type: ignore[arg-type]
    server = _Server(settings, f"Serving flow '{name}' at {where} (try it: {where}/)", grace_period)
    server.run(sockets=[sock])
    return 0
