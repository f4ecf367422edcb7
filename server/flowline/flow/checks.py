"""The state one validation shares across its checks (:mod:`flowline.flow.validate` and the check modules
beside it): the flow, its files read once, the stored connections, the package tools."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flowline.flow.builtin_tools import LLM_TOOL
from flowline.flow.files import Reader, resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.package_tools import PackageTool, ToolSource
from flowline.flow.problems import Problem


def create_command(name: str) -> str:
    """The command that stores connection ``name`` (README: `flowline connection create`)."""
    return f"flowline connection create --file <file>.yaml --name {name}"


@dataclass
class CheckContext:
    """What one validation knows and has found: the flow, how to read its files (each once), the stored
    connections and their types (when known), the package tools (asked only when a node uses one)."""

    flow: Flow
    read_file: Reader
    connections: frozenset[str] | None = None
    problems: list[Problem] = field(default_factory=list)
    files: dict[Path, str | None] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    tools: ToolSource | None = None
    connection_types: Mapping[str, str] | None = None

    def package_tool(self, node: Node) -> PackageTool | None:
        """The package tool a node's source names (the catalog is read only when a node asks)."""
        tool_id = node.source.tool if node.source is not None else None
        if not tool_id or tool_id == LLM_TOOL or node.source is None or node.source.type == "code":
            return None
        if self.tools is None:
            from flowline.flow.package_tools import installed_tools

            self.tools = installed_tools
        return self.tools().get(tool_id)

    def read(self, path: Path) -> str | None:
        """A file's text, read once per validation however many nodes use it."""
        if path not in self.files:
            self.files[path] = self.read_file(path)
        return self.files[path]

    def source_path(self, relative: str) -> Path:
        """Where a source path of the flow is, looked up once per validation (nodes share tool files)."""
        path = self.sources.get(relative)
        if path is None:
            path = self.sources[relative] = resolve_source(self.flow, relative)
        return path

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)


def all_nodes(flow: Flow) -> Iterator[Node]:
    """The nodes (those using variants replaced by every variant's definition)."""
    for node in flow.nodes:
        if not (node.use_variants and flow.variants_of(node.name)):
            yield node
    for nv in flow.node_variants:
        for variant in nv.variants:
            yield variant.node
