"""Turning a validated flow into something runnable: variants chosen, process set up, tools loaded.

This is the one place that changes process state for user code: the flow folder goes first on
``sys.path``, ``additional_includes`` become importable where they are, ``environment_variables``
are set, and ``import promptflow`` is served by Flowline's stand-in.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flowline.connections.model import Connection
from flowline.connections.store import ConnectionStore, ConnectionStoreError
from flowline.engine.errors import FlowRunError, NodeError, describe
from flowline.engine.nodes import NodeRunner, PromptRunner, PythonRunner, exit_call
from flowline.engine.python_tool import find_tool, load_module
from flowline.flow.files import include_roots, read_disk, resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.variants import VariantError, apply_variants


@dataclass(frozen=True)
class Executable:
    """A flow ready to run: its nodes in dependency order and a runner for each."""

    flow: Flow
    nodes: tuple[Node, ...]
    runners: dict[str, NodeRunner]
    roots: tuple[Path, ...]
    streaming: frozenset[str] = frozenset()

    @property
    def line_nodes(self) -> tuple[Node, ...]:
        """Nodes that run once per line."""
        return tuple(n for n in self.nodes if not n.aggregation)

    @property
    def aggregation_nodes(self) -> tuple[Node, ...]:
        """Nodes that run once over all lines."""
        return tuple(n for n in self.nodes if n.aggregation)


def order_nodes(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Nodes in an order where each comes after what it depends on (stable for independent nodes)."""
    names = {n.name for n in nodes}
    done: set[str] = set()
    ordered: list[Node] = []
    remaining = list(nodes)
    while remaining:
        ready = [n for n in remaining if all(d in done or d not in names for d in n.dependencies)]
        if not ready:
            raise FlowRunError("The flow has a dependency cycle among " + ", ".join(n.name for n in remaining))
        for node in ready:
            done.add(node.name)
            ordered.append(node)
        remaining = [n for n in remaining if n.name not in done]
    return tuple(ordered)


class _IncludeFinder(importlib.abc.MetaPathFinder):
    """Imports a top-level name from an ``additional_includes`` entry, in place."""

    def __init__(self, entries: dict[str, Path]) -> None:
        self._entries = entries

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        entry = self._entries.get(fullname)
        if entry is None:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [str(entry.parent)])


def prepare_process(flow: Flow) -> tuple[Path, ...]:
    """Set up this process to run the flow's code; returns the folders that hold user code."""
    from flowline.compat import shim

    shim.install()
    folder = str(flow.directory.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    includes = include_roots(flow)
    modules = {(p.stem if p.is_file() else p.name): p for p in includes.values() if p.suffix in ("", ".py")}
    if modules:
        sys.meta_path.append(_IncludeFinder(modules))
    for name, value in flow.environment_variables:
        raw = value.value
        os.environ[name] = raw if isinstance(raw, str) else json.dumps(raw)
    return (flow.directory.resolve(), *(p if p.is_dir() else p.parent for p in includes.values()))


LLM_PACKAGE_TOOLS = ("promptflow.tools.llm.llm",)


@dataclass(frozen=True)
class RunOptions:
    """How a run treats LLM nodes: stream tokens of nodes that feed outputs; record or replay calls."""

    stream: bool = False
    llm_cache: str | None = None
    home: Path | None = None


class _Builder:
    """Creates the runner of each node; connections are read from the store once each."""

    def __init__(self, flow: Flow, roots: tuple[Path, ...], options: RunOptions) -> None:
        self.flow = flow
        self.roots = roots
        self.options = options
        self._store: ConnectionStore | None = None
        self._connections: dict[str, Connection] = {}

    def connection(self, name: str) -> Connection:
        if name not in self._connections:
            if self._store is None:
                self._store = ConnectionStore(self.options.home)
            try:
                self._connections[name] = self._store.load(name)
            except ConnectionStoreError as exc:
                raise FlowRunError(str(exc)) from exc
        return self._connections[name]

    def template(self, node: Node, path: Path) -> str:
        text = read_disk(path)
        if text is None:
            raise FlowRunError(f"Template '{path.name}' of node '{node.name}' was not found.")
        return text

    def llm(self, node: Node, path: Path) -> NodeRunner:
        from flowline.engine.llm import LLMRunner
        from flowline.engine.llm_cache import cache_for

        literal = {i.name: i.value.value for i in node.inputs if i.value.reference is None}
        name = node.connection.value if node.connection is not None else literal.get("connection")
        if not name:
            raise FlowRunError(f"LLM node '{node.name}' needs 'connection: <name>'.")
        api = node.api or literal.get("api") or "chat"
        try:
            cache = cache_for(self.flow.directory, self.options.llm_cache)
        except ValueError as exc:
            raise FlowRunError(str(exc)) from exc
        runner = LLMRunner(node.name, self.template(node, path), path.name, str(api), self.connection(str(name)),
                           self.flow.directory, cache)
        if cache is None or cache.mode != "replay":
            runner.client()  # import openai and build the client now, not inside the first line's timing
        return runner

    def runner(self, node: Node) -> NodeRunner:
        source = node.source
        if source is None:
            raise FlowRunError(f"Node '{node.name}' has no source.")
        if node.type == "custom_llm" and source.type == "package_with_prompt" and source.tool in LLM_PACKAGE_TOOLS:
            return self.llm(node, resolve_source(self.flow, source.path or ""))
        if source.type != "code":
            raise FlowRunError(f"Node '{node.name}' uses a '{source.type}' tool ({source.tool}), which this "
                               "version of Flowline cannot run; only tools from files (source type 'code') and "
                               f"{', '.join(LLM_PACKAGE_TOOLS)} run.")
        if not source.path:
            raise FlowRunError(f"Node '{node.name}' has no source path.")
        path = resolve_source(self.flow, source.path)
        if node.type == "prompt":
            return PromptRunner(self.template(node, path))
        if node.type == "llm":
            return self.llm(node, path)
        if node.type == "python":
            literal_inputs = {i.name: i.value.value for i in node.inputs if i.value.reference is None}
            try:
                module = load_module(path, list(self.roots))
                tool = find_tool(module, path, literal_inputs, self.connection)
            except FlowRunError:
                raise
            except Exception as exc:  # the user's module failed to import: report it like a node failure
                raise NodeError(node.name, describe(exc, self.roots)) from exc
            except SystemExit as exc:  # module-level sys.exit(): a tool that cannot load, not the end of this process
                info = describe(exc, self.roots)
                raise NodeError(node.name, replace(info, message=(
                    f"{path.name} called {exit_call(exc)} while being imported; a tool file defines its @tool "
                    "function and must not end the process — remove the sys.exit call (or move it under "
                    "`if __name__ == \"__main__\":`)."))) from exc
            return PythonRunner(tool)
        raise FlowRunError(f"Node '{node.name}' has type '{node.type}', which Flowline cannot run.")


def streaming_nodes(flow: Flow) -> frozenset[str]:
    """LLM nodes whose output is a flow output directly: their tokens are worth streaming."""
    names = {n.name for n in flow.nodes if n.type in ("llm", "custom_llm")}
    referenced = {o.reference.reference.name for o in flow.outputs
                  if o.reference and o.reference.reference and o.reference.reference.kind == "node"}
    return frozenset(names & referenced)


def prepare(flow: Flow, variant: tuple[str, str] | None = None, only: str | None = None,
            options: RunOptions | None = None) -> Executable:
    """Choose variants, set up the process and load the tools (of node ``only``, when given)."""
    options = options or RunOptions()
    try:
        flow = apply_variants(flow, variant)
    except VariantError as exc:
        raise FlowRunError(str(exc)) from exc
    # One node runs alone: how the other nodes are ordered (or whether they form a cycle) does not matter.
    nodes = order_nodes(flow.nodes) if only is None else tuple(n for n in flow.nodes if n.name == only)
    roots = prepare_process(flow)
    builder = _Builder(flow, roots, options)
    runners = {n.name: builder.runner(n) for n in nodes if only is None or n.name == only}
    streaming = streaming_nodes(flow) if options.stream else frozenset()
    target = flow.node(only) if only is not None else None
    if options.stream and target is not None and target.type in ("llm", "custom_llm"):
        streaming = frozenset({target.name})
    return Executable(flow, nodes, runners, roots, streaming)
