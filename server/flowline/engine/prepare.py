"""Turning a validated flow into something runnable: variants chosen, process set up, tools loaded.

This is the one place that changes process state for user code: the flow folder goes first on
``sys.path``, ``additional_includes`` become importable where they are, ``environment_variables``
are set, ``import promptflow`` is served by Flowline's stand-in, and the working directory becomes
the flow folder (see :func:`working_directory`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.abc
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from flowline.connections.model import Connection
from flowline.connections.secrets import Secrets, flow_secrets
from flowline.connections.store import ConnectionStore, ConnectionStoreError
from flowline.engine.errors import FlowRunError, NodeError, NodeSetupError, describe
from flowline.engine.interrupts import noting_ctrl_c
from flowline.engine.nodes import NodeRunner, PromptRunner, PythonRunner, exit_call
from flowline.engine.python_tool import find_tool, load_module
from flowline.flow.files import include_roots, not_utf8, read_disk, resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.references import CONNECTION_FIELD
from flowline.flow.variants import VariantError, apply_variants


@dataclass(frozen=True)
class Executable:
    """A flow ready to run: its nodes in dependency order and a runner for each."""

    flow: Flow
    nodes: tuple[Node, ...]
    runners: dict[str, NodeRunner]
    roots: tuple[Path, ...]
    streaming: frozenset[str] = frozenset()
    data_folder: Path | None = None
    """Where image paths in a batch run's data are read from (``RunOptions.data_folder``)."""
    secrets: Secrets = Secrets()
    """The secrets of the connections the flow names: masked in the tools' prints and in error messages."""

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


# The run folder made for each flow folder in this process (forked worker processes inherit it).
_RUN_FOLDERS: dict[Path, Path] = {}


def working_directory(flow: Flow) -> Path:
    """The folder a flow's tools run in, so ``open('data.txt')`` finds the flow's files at import and
    at run time, as under promptflow 1.18.5, which runs tools in the flow folder, and for a flow with
    ``additional_includes`` in a temporary copy of it with the included files and folders added under
    their names. Flowline copies nothing: such a flow gets a temporary folder (made once per process,
    removed at exit) of symbolic links to the flow folder's entries and to each include, while tool
    modules still load from where they are (so breakpoints bind). Where links cannot be made (Windows
    without the right), the flow folder. ``flow.directory`` must be absolute."""
    folder = flow.directory
    includes = include_roots(flow)
    if not includes:
        return folder
    made = _RUN_FOLDERS.get(folder)
    if made is not None and made.is_dir():
        return made
    run_folder = Path(tempfile.mkdtemp(prefix="flowline-run-"))
    try:
        for entry in folder.iterdir():
            (run_folder / entry.name).symlink_to(entry, entry.is_dir())
        for name, target in includes.items():
            link = run_folder / name
            if link.is_symlink():  # an include named like a flow file is copied over it by promptflow
                link.unlink()
            if target.exists():
                link.symlink_to(target, target.is_dir())
    except OSError:
        shutil.rmtree(run_folder, ignore_errors=True)
        return folder
    atexit.register(shutil.rmtree, run_folder, True)  # removes the links, never what they point to
    _RUN_FOLDERS[folder] = run_folder
    return run_folder


def prepare_process(flow: Flow) -> tuple[Path, ...]:
    """Set up this process to run the flow's code (``flow.directory`` absolute); returns the folders
    that hold user code. The environment variables are set by :func:`prepare` (they may read connections)."""
    from flowline.compat import shim

    shim.install()
    folder = str(flow.directory.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    includes = include_roots(flow)
    modules = {(p.stem if p.is_file() else p.name): p for p in includes.values() if p.suffix in ("", ".py")}
    if modules:
        # First: the working directory below may link the includes by name, and a path entry for it
        # ('' under a debugger) would load them from the link, where breakpoints set on them do not bind.
        sys.meta_path.insert(0, _IncludeFinder(modules))
    home = os.environ.get("FLOWLINE_HOME")
    if home and not os.path.isabs(home):  # keep meaning the folder it named before the directory changes
        os.environ["FLOWLINE_HOME"] = os.path.abspath(home)
    os.chdir(working_directory(flow))
    return (flow.directory.resolve(), *(p if p.is_dir() else p.parent for p in includes.values()))


LLM_PACKAGE_TOOLS = ("promptflow.tools.llm.llm",)


def environment_text(value: Any) -> str:
    """The text a flow's ``environment_variables`` value becomes, as in promptflow 1.18.5 (observed):
    a string as it is, a list or an object as JSON (``[1, "a", true]``), anything else as Python
    writes it (``true`` → ``"True"``, ``42`` → ``"42"``, ``1.5`` → ``"1.5"``, null → ``"None"``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def run_environment(flow: Flow, overrides: Mapping[str, str],
                    connection: Callable[[str], Connection]) -> dict[str, str]:
    """The variables a run sets, name → text: the flow's ``environment_variables``
    (:func:`environment_text`), each replaced by the run's ``overrides`` of the same name
    (``--environment-variables``, run.yml), as promptflow 1.18.5 does; a value that is a whole
    ``${name.field}`` is that field (secret or config) of stored connection ``name``, read through
    ``connection`` (which raises :class:`FlowRunError` for an unknown connection).

    Raises :class:`FlowRunError` when the connection has no such field. promptflow 1.18.5 raises
    ConnectionNotFoundError only for an unknown connection named in the flow; it passes the text
    ``${name.field}`` on as the value for an unknown field, and for an unknown connection named on its
    command line (see ARCHITECTURE §10)."""
    values = {name: environment_text(value.value) for name, value in flow.environment_variables}
    values.update(overrides)
    resolved = {}
    for name, text in values.items():
        match = CONNECTION_FIELD.match(text)
        if match is not None:
            try:
                found = connection(match.group(1))
            except FlowRunError as exc:
                raise FlowRunError(f"Environment variable {name}: {exc}") from exc
            field_name = match.group(2)
            if field_name not in found.secrets and field_name not in found.configs:
                known = ", ".join(sorted({*found.secrets, *found.configs})) or "none"
                raise FlowRunError(f"Environment variable {name}: connection '{found.name}' has no field "
                                   f"'{field_name}' (its fields: {known}).")
            text = str(found.secrets.get(field_name, found.configs.get(field_name)))
        resolved[name] = text
    return resolved


@dataclass(frozen=True)
class RunOptions:
    """How a run treats LLM and Python nodes: stream tokens (generator items) of nodes that feed outputs;
    record or replay LLM calls."""

    stream: bool = False
    llm_cache: str | None = None
    home: Path | None = None
    # The run's `--environment-variables` (or run.yml's), as given: they replace the flow's values of
    # the same names (see `run_environment`).
    environment: dict[str, str] = field(default_factory=dict)
    # A batch run's data folder (absolute): image paths in the data are read from there.
    data_folder: Path | None = None
    # A served flow: a tool's KeyboardInterrupt (GeneratorExit, own CancelledError) fails its node instead of
    # being taken as Ctrl-C (see `PythonRunner.contain_interrupts`).
    contain_interrupts: bool = False
    # Connections given with the run rather than read from the store (a Ray worker has no store): by name.
    connections: Mapping[str, Connection] = field(default_factory=dict)


class _Builder:
    """Creates the runner of each node; connections are read from the store once each."""

    def __init__(self, flow: Flow, roots: tuple[Path, ...], options: RunOptions) -> None:
        self.flow = flow
        self.roots = roots
        self.options = options
        self._store: ConnectionStore | None = None
        self._connections: dict[str, Connection] = {}

    def store(self) -> ConnectionStore:
        """The connection store of the run's home, opened on first use."""
        if self._store is None:
            self._store = ConnectionStore(self.options.home)
        return self._store

    def loaded(self) -> dict[str, Connection]:
        """The connections read so far, by name."""
        return dict(self._connections)

    def connection(self, name: str, node: str | None = None) -> Connection:
        """Stored connection ``name``; :class:`FlowRunError` (naming ``node``, which uses it) when the store
        lacks it: validation only warns, as the flow itself is right."""
        if name not in self._connections and name in self.options.connections:
            self._connections[name] = self.options.connections[name]
        if name not in self._connections:
            try:
                self._connections[name] = self.store().load(name)
            except ConnectionStoreError as exc:
                raise FlowRunError(f"Node '{node}' cannot run: {exc}" if node else str(exc)) from exc
        return self._connections[name]

    def template(self, node: Node, path: Path) -> str:
        text = read_disk(path)
        if text is None:
            reason = not_utf8(path)
            raise FlowRunError(f"Template '{path.name}' of node '{node.name}' "
                               f"{reason if reason is not None else 'was not found'}.")
        return text

    def llm(self, node: Node, path: Path) -> NodeRunner:
        from flowline.engine.llm import LLMError, LLMRunner
        from flowline.engine.llm_cache import cache_for
        from flowline.flow.llm_parameters import LLM_CONNECTION_TYPES

        literal = {i.name: i.value.value for i in node.inputs if i.value.reference is None}
        name = node.connection.value if node.connection is not None else literal.get("connection")
        if not name:
            raise FlowRunError(f"LLM node '{node.name}' names no connection: write 'connection: <name>' in the flow, "
                               f"or give one to a batch run with `--connections {node.name}.connection=<name>`.")
        api = node.api or literal.get("api") or "chat"
        try:
            cache = cache_for(self.flow.directory, self.options.llm_cache)
        except ValueError as exc:
            raise FlowRunError(str(exc)) from exc
        runner = LLMRunner(node.name, self.template(node, path), path.name, str(api),
                           self.connection(str(name), node.name), self.flow.directory, cache)
        try:
            if cache is None or cache.mode != "replay":
                runner.client()  # import openai and build the client now, not inside the first line's timing
            elif runner.connection.TYPE not in LLM_CONNECTION_TYPES:
                raise LLMError(f"Node '{node.name}': connection '{runner.connection.name}' has type "
                               f"'{runner.connection.TYPE}'; LLM nodes need an open_ai or azure_open_ai connection.")
        except LLMError as exc:
            raise NodeSetupError(node.name, str(exc)) from None
        return runner

    def runner(self, node: Node) -> NodeRunner:
        source = node.source
        if source is None:
            raise FlowRunError(f"Node '{node.name}' has no source.")
        if node.type == "custom_llm" and source.type == "package_with_prompt" and source.tool in LLM_PACKAGE_TOOLS:
            return self.llm(node, resolve_source(self.flow, source.path or ""))
        if source.type in ("package", "package_with_prompt") and source.tool:
            from flowline.engine.package_tools import package_runner
            from flowline.flow.package_tools import installed_tools

            runner = package_runner(self.flow, node, self.roots, lambda name: self.connection(name, node.name),
                                    self.llm, installed_tools())
            if isinstance(runner, PythonRunner) and self.options.contain_interrupts:
                return replace(runner, contain_interrupts=True)
            return runner
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
                tool = find_tool(module, path, literal_inputs, partial(self.connection, node=node.name))
            except FlowRunError:
                raise
            except Exception as exc:  # the user's module failed to import: report it like a node failure
                from flowline.compat.shim import unsupported_import

                info = describe(exc, self.roots)
                raise NodeError(node.name, replace(info, message=unsupported_import(exc) or info.message)) from exc
            except SystemExit as exc:  # module-level sys.exit(): a tool that cannot load, not the end of this process
                info = describe(exc, self.roots)
                raise NodeError(node.name, replace(info, message=(
                    f"{path.name} called {exit_call(exc)} while being imported; a tool file defines its @tool "
                    "function and must not end the process — remove the sys.exit call (or move it under "
                    "`if __name__ == \"__main__\":`)."))) from exc
            return PythonRunner(tool, contain_interrupts=self.options.contain_interrupts)
        raise FlowRunError(f"Node '{node.name}' has type '{node.type}', which Flowline cannot run.")


def _runner(builder: _Builder, node: Node, ctrl_c: list[int]) -> NodeRunner:
    """The node's runner; an unexpected exception while making it (a client library's own error, a
    package tool's metadata) is the node's load failure, reported in one line, never a traceback, and so is
    a ``KeyboardInterrupt`` that a tool file raised (not Ctrl-C: ``ctrl_c`` is empty). promptflow 1.18.5
    ends the command "interrupted" then, with no run stored."""
    try:
        return builder.runner(node)
    except (FlowRunError, NodeError):
        raise
    except Exception as exc:
        raise NodeError(node.name, describe(exc, builder.roots)) from exc
    except KeyboardInterrupt as exc:
        if ctrl_c:
            raise
        info = describe(exc, builder.roots)
        raise NodeError(node.name, replace(info, message=(
            f"{Path(info.file).name if info.file else 'its tool file'} raised KeyboardInterrupt while being "
            "imported; a tool file defines its @tool function and must not raise it (remove the raise)"))) from None


STREAMED_TYPES = ("llm", "custom_llm", "python")


def streaming_nodes(flow: Flow) -> frozenset[str]:
    """LLM and Python nodes whose output is a flow output directly: their tokens (an LLM's answer, the
    items of a generator a tool returns, as promptflow streams a chat flow's answer) are worth streaming."""
    names = {n.name for n in flow.nodes if n.type in STREAMED_TYPES}
    referenced = {o.reference.reference.name for o in flow.outputs
                  if o.reference and o.reference.reference and o.reference.reference.kind == "node"}
    return frozenset(names & referenced)


def prepare(flow: Flow, variant: tuple[str, str] | None = None, only: str | None = None,
            options: RunOptions | None = None) -> Executable:
    """Choose variants, set up the process (working directory: :func:`working_directory`) and load the tools
    (of node ``only``, when given). ``flow.path`` may be relative to the caller's directory."""
    options = options or RunOptions()
    flow = replace(flow, path=flow.path.absolute())  # the working directory changes in prepare_process
    try:
        flow = apply_variants(flow, variant)
    except VariantError as exc:
        raise FlowRunError(str(exc)) from exc
    # One node runs alone: how the other nodes are ordered (or whether they form a cycle) does not matter.
    nodes = order_nodes(flow.nodes) if only is None else tuple(n for n in flow.nodes if n.name == only)
    roots = prepare_process(flow)
    builder = _Builder(flow, roots, options)
    # Set before any tool module is imported: tools may read the environment at import.
    os.environ.update(run_environment(flow, options.environment, builder.connection))
    # What a tool prints while it is imported is no data: it goes to stderr (stdout carries outputs, events).
    with contextlib.redirect_stdout(sys.stderr), noting_ctrl_c() as ctrl_c:
        runners = {n.name: _runner(builder, n, ctrl_c) for n in nodes if only is None or n.name == only}
    streaming = streaming_nodes(flow) if options.stream else frozenset()
    target = flow.node(only) if only is not None else None
    if options.stream and target is not None and target.type in STREAMED_TYPES:
        streaming = frozenset({target.name})
    # The connections the tools were given (loaded once, above) and those given with the run count as read.
    secrets = flow_secrets(flow, options.environment, builder.store(), {**options.connections, **builder.loaded()})
    return Executable(flow, nodes, runners, roots, streaming, options.data_folder, secrets)
