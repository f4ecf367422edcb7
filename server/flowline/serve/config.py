"""What a served flow is started with (``flowline flow serve``'s options, or a container's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_WORKERS = 100
"""Threads for sync tools: tools are mostly I/O-bound (an HTTP call), so many more than the CPUs."""
DEFAULT_REQUEST_TIMEOUT = 600.0
"""Seconds a request may run, as promptflow's default line timeout."""
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """A flow to serve and how.

    ``flow``: the flow folder (or its ``flow.dag.yaml``). ``connections``: overrides of node settings,
    ``{node: {"connection": name}}`` (``--connections node.connection=NAME``). ``environment_variables``:
    set for the flow over its own ``environment_variables`` (a ``${conn.field}`` value reads a stored
    connection). ``workers``: threads that run sync tools. ``request_timeout``: seconds a request may
    run. ``max_body_bytes``: the largest request body taken. ``home``: where connections are stored
    (``FLOWLINE_HOME`` when ``None``). ``name``: what the flow is called in the ready line, swagger and
    OpenAI's ``model`` (the flow folder's name when ``None``; a build's snapshot sets its own).
    ``allow_private_urls``: fetch image inputs given by URL from loopback and private addresses too.
    """

    flow: Path
    connections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    workers: int = DEFAULT_WORKERS
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    home: Path | None = None
    name: str | None = None
    allow_private_urls: bool = False
