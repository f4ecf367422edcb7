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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowline.engine.errors import FlowRunError, NodeError, describe
from flowline.engine.nodes import NodeRunner, PromptRunner, PythonRunner
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
        ready = [n for n in remaining if all(d in done or d not in names for d in n.dependencies())]
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


def _runner(flow: Flow, node: Node, roots: tuple[Path, ...]) -> NodeRunner:
    if node.source is not None and node.source.type != "code":
        raise FlowRunError(f"Node '{node.name}' uses a '{node.source.type}' tool ({node.source.tool}), which this "
                           "version of Flowline cannot run; only tools from files (source type 'code') run.")
    if node.source is None or not node.source.path:
        raise FlowRunError(f"Node '{node.name}' has no source path.")
    path = resolve_source(flow, node.source.path)
    if node.type == "prompt":
        text = read_disk(path)
        if text is None:
            raise FlowRunError(f"Template '{node.source.path}' of node '{node.name}' was not found.")
        return PromptRunner(text)
    if node.type == "python":
        literal_inputs = {i.name: i.value.value for i in node.inputs if i.value.reference is None}
        try:
            module = load_module(path, list(roots))
            return PythonRunner(find_tool(module, path, literal_inputs))
        except Exception as exc:  # the user's module failed to import: report it like a node failure
            raise NodeError(node.name, describe(exc, roots)) from exc
    raise FlowRunError(f"Node '{node.name}' has type '{node.type}', which this version of Flowline cannot run "
                       "(python and prompt nodes are supported).")


def prepare(flow: Flow, variant: tuple[str, str] | None = None, only: str | None = None) -> Executable:
    """Choose variants, set up the process and load the tools (of node ``only``, when given)."""
    try:
        flow = apply_variants(flow, variant)
    except VariantError as exc:
        raise FlowRunError(str(exc)) from exc
    nodes = order_nodes(flow.nodes)
    roots = prepare_process(flow)
    runners = {n.name: _runner(flow, n, roots) for n in nodes if only is None or n.name == only}
    return Executable(flow, nodes, runners, roots)
