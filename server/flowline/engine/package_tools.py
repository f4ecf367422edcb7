"""Running ``source: {type: package, tool: ...}`` (and ``package_with_prompt``) nodes.

The tool id is looked up among the package tools (:func:`flowline.flow.package_tools.installed_tools`);
as in promptflow 1.18.5 an id no package registers does not run even when it could be imported. A
built-in promptflow-tools tool runs natively (:mod:`flowline.engine.builtin_tools`); any other is
imported from the installed packages (its ``import promptflow`` served by the shim): ``module.function``,
or ``module.Class.method`` where the class is built from the node inputs that its ``__init__`` takes (a
connection input receiving the stored connection it names) and the method gets the others, as
promptflow does.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path

from flowline.connections.model import Connection
from flowline.engine.errors import FlowRunError, NodeError, describe
from flowline.engine.llm import LLMRunner
from flowline.engine.nodes import NodeRunner, PythonRunner
from flowline.engine.python_tool import make_tool
from flowline.flow.builtin_tools import EMBEDDING, SERPAPI, VISION_TOOLS, needs_prompt_message
from flowline.flow.files import resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.package_tools import Catalog, PackageTool, connection_mismatch


def unknown_tool_message(node: str, tool_id: str, catalog: Catalog) -> str:
    """What to say about a package tool no installed package registers: its id, the closest known ids
    and how to see them all."""
    near = catalog.closest(tool_id)
    hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    failures = catalog.failures_for(tool_id)
    if failures is not None:
        return (f"Node '{node}' uses package tool '{tool_id}', which is not among the listed tools, and listing "
                f"some package's tools failed: {failures}.{hint} Fix that package (`flowline tool list` shows the "
                "errors), or install the package that provides it (into the interpreter that runs the flow).")
    return (f"Node '{node}' uses package tool '{tool_id}', which no installed package registers.{hint} "
            "`flowline tool list` shows the package tools of this environment; install the package that "
            "provides it (into the interpreter that runs the flow).")


def _literal_connection(node: Node, load: Callable[[str], Connection]) -> Connection:
    item = node.input("connection")
    if item is None or item.value.reference is not None or not item.value.value:
        raise FlowRunError(f"Node '{node.name}' needs the input 'connection' set to the name of a stored "
                           "connection (see `flowline connection list`).")
    return load(str(item.value.value))


def _builtin(flow: Flow, node: Node, tool: PackageTool, load: Callable[[str], Connection],
             llm: Callable[[Node, Path], NodeRunner]) -> NodeRunner:
    from flowline.engine import builtin_tools

    inputs = builtin_tools.ToolInputs(tool)
    if tool.id in VISION_TOOLS:
        if node.source is None or not node.source.path:
            raise FlowRunError(needs_prompt_message(node.name, tool.id))
        runner = llm(node, resolve_source(flow, node.source.path))
        assert isinstance(runner, LLMRunner)
        return builtin_tools.VisionRunner.of(runner, tool)
    connection = _literal_connection(node, load)
    if tool.id == EMBEDDING:
        if connection.TYPE not in ("open_ai", "azure_open_ai"):
            raise FlowRunError(f"Node '{node.name}': the embedding tool needs an open_ai or azure_open_ai "
                               f"connection; '{connection.name}' is a {connection.TYPE} connection.")
        return builtin_tools.EmbeddingRunner(inputs, LLMRunner(node.name, "", "", "embedding", connection,
                                                               flow.directory))
    assert tool.id == SERPAPI
    return builtin_tools.SerpAPIRunner(inputs, node.name, connection)


def package_runner(flow: Flow, node: Node, roots: tuple[Path, ...], load: Callable[[str], Connection],
                   llm: Callable[[Node, Path], NodeRunner], catalog: Catalog) -> NodeRunner:
    """The runner of a package-tool node. ``load`` gives a stored connection by name and ``llm`` builds the
    LLM runner of a node from its template (the vision tools are LLM nodes). Raises
    :class:`FlowRunError` for an unknown tool and :class:`NodeError` when the tool's module cannot be
    imported or its class cannot be built."""
    assert node.source is not None
    tool_id = node.source.tool or ""
    tool = catalog.get(tool_id)
    if tool is None:
        raise FlowRunError(unknown_tool_message(node.name, tool_id, catalog))
    if tool.package == "flowline":
        return _builtin(flow, node, tool, load, llm)
    literal = {i.name: i.value.value for i in node.inputs if i.value.reference is None}
    connections = frozenset(i.name for i in tool.inputs if i.is_connection)
    for item in tool.inputs:
        if item.is_connection and literal.get(item.name):
            name = str(literal[item.name])
            mismatch = connection_mismatch(node.name, item, name, load(name).TYPE)
            if mismatch is not None:
                raise FlowRunError(mismatch)
    try:
        module = importlib.import_module(tool.module)
        owner = getattr(module, tool.class_name) if tool.class_name else None
        func = inspect.unwrap(getattr(owner if owner is not None else module, tool.function))
        return PythonRunner(make_tool(func, owner, literal, load, connections))
    except FlowRunError:
        raise
    except Exception as exc:  # the package failed to import, or has no such class or function
        raise NodeError(node.name, describe(exc, roots, _package_folders(tool.module))) from exc


def _package_folders(module: str) -> tuple[Path, ...]:
    """Where the top-level package of ``module`` is installed (its folders, or its one file), found without
    importing it: an error in its files points there, as one in a tool file points at the flow folder."""
    try:
        spec = importlib.util.find_spec(module.split(".", 1)[0])
    except (ImportError, ValueError):
        return ()
    if spec is None:
        return ()
    if spec.submodule_search_locations:
        return tuple(Path(location).resolve() for location in spec.submodule_search_locations)
    return (Path(spec.origin).resolve(),) if spec.origin else ()
