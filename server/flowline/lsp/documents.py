"""Open documents: a parse/validation cache per (uri, version) and position conversion.

Spans inside Flowline count code points; LSP counts UTF-16 code units. Conversion happens here
and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.workspace import Workspace

from flowline.flow.build import NodeCache, load_flow_text
from flowline.flow.files import read_disk
from flowline.flow.model import Flow
from flowline.flow.package_tools import ToolSource
from flowline.flow.parse import Document
from flowline.flow.problems import Problem
from flowline.flow.spans import Span

log = logging.getLogger(__name__)


def uri_to_path(uri: str) -> Path:
    """A file URI as a path."""
    return Path(unquote(urlparse(uri).path))


def is_flow_uri(uri: str) -> bool:
    """True for flow.dag.yaml / flow.dag.yml documents."""
    return uri.endswith(("/flow.dag.yaml", "/flow.dag.yml"))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def to_position(lines: list[str], line: int, column: int) -> types.Position:
    """A code-point position as an LSP position."""
    if 0 <= line < len(lines):
        return types.Position(line, _utf16(lines[line][:column]))
    return types.Position(line, column)


def to_range(lines: list[str], span: Span) -> types.Range:
    """A span as an LSP range."""
    return types.Range(to_position(lines, span.start_line, span.start_col),
                       to_position(lines, span.end_line, span.end_col))


def from_position(lines: list[str], position: types.Position) -> tuple[int, int]:
    """An LSP position as (line, code-point column)."""
    if not 0 <= position.line < len(lines):
        return position.line, position.character
    text, units, column = lines[position.line], 0, 0
    while column < len(text) and units < position.character:
        units += _utf16(text[column])
        column += 1
    return position.line, column


@dataclass(frozen=True)
class FlowState:
    """A flow document at one version: its text, parse, model and problems."""

    uri: str
    version: int | None
    text: str
    document: Document
    flow: Flow
    problems: tuple[Problem, ...]
    connections: frozenset[str] = frozenset()  # the stored connections it was checked against

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines (split once: every request converts positions with them)."""
        return self.text.split("\n")


class FlowDocuments:
    """Caches the state of each open flow per version and set of stored connections; keeps the last
    one that parsed cleanly."""

    def __init__(self, workspace: Callable[[], Workspace], connections: Callable[[], frozenset[str]],
                 tools: ToolSource | None = None) -> None:
        self._workspace = workspace
        self._connections = connections
        self.tools = tools
        """Where the package tools come from (validation asks only for flows that use one)."""
        self._states: dict[str, FlowState] = {}
        self._good: dict[str, FlowState] = {}
        self._nodes: dict[str, NodeCache] = {}

    @property
    def workspace(self) -> Workspace:
        """The server's workspace (it exists once the client initialized the server)."""
        return self._workspace()

    def read(self, path: Path) -> str | None:
        """A file's text: the editor's unsaved text when open, else the disk's."""
        document = self.workspace.text_documents.get(path.as_uri())
        if document is not None:
            return document.source
        return read_disk(path)

    def state(self, uri: str, refresh: bool = False) -> FlowState:
        """The state of an open flow document, computed once per version and set of stored connections
        (every request sees the same problems) unless ``refresh``."""
        from flowline.flow.schema import with_schema_problems
        from flowline.flow.validate import validate

        document = self.workspace.get_text_document(uri)
        cached = self._states.get(uri)
        connections = self._connections()
        if cached is not None and cached.version == document.version and cached.text == document.source \
                and cached.connections == connections and not refresh:
            return cached
        text = document.source
        flow, parsed = load_flow_text(text, uri_to_path(uri), cached.document if cached is not None else None,
                                      self._nodes.setdefault(uri, {}))
        try:
            problems = with_schema_problems(parsed.root, validate(flow, self.read, connections, self.tools))
        except Exception:  # a bug in a check must not take the server down; log it and show what we have
            log.exception("validating %s failed", uri)
            problems = list(flow.problems)
        state = FlowState(uri, document.version, text, parsed, flow, tuple(problems), connections)
        self._states[uri] = state
        if not parsed.problems:
            self._good[uri] = state
        return state

    def model(self, uri: str) -> FlowState:
        """The current state, or the last one that parsed when the text is broken and lost its nodes."""
        state = self.state(uri)
        good = self._good.get(uri)
        if state.document.problems and good is not None and len(good.flow.nodes) > len(state.flow.nodes):
            return FlowState(uri, state.version, state.text, state.document, good.flow, state.problems,
                             state.connections)
        return state

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._states.pop(uri, None)
        self._good.pop(uri, None)
        self._nodes.pop(uri, None)

    def open_flows(self) -> list[str]:
        """URIs of the open flow documents."""
        return [uri for uri in self.workspace.text_documents if is_flow_uri(uri)]
