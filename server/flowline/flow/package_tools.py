"""Package tools: what installed packages offer to ``source: {type: package, tool: ...}`` nodes.

A package registers tools for Prompt flow through the ``package_tools`` entry point group: each entry
point names a function returning ``{tool id: metadata}``, the metadata in the shape of promptflow's tool
yaml files (``name``, ``type``, ``module``, ``class_name``, ``function``, ``description`` and ``inputs``
``{name: {type: [..], default, enum, description}}``). This module is the model validation, the editor
and the engine share, plus the one place that reads the entry points (:func:`installed_tools`, which
imports the registering packages and therefore runs only where user code may run: a flow process or
the CLI; the language server asks a child process, :func:`tools_in_child`).

The promptflow-tools built-ins Flowline runs natively (:mod:`flowline.flow.builtin_tools`) are always
listed; the entry points of ``promptflow`` and ``promptflow-tools`` themselves are skipped, since their
tools need promptflow (which Flowline's import shim stands in for inside a flow process).
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from flowline.flow.signatures import Parameter, ToolSignature
from flowline.flow.spans import Span

ENTRY_POINT_GROUP = "package_tools"
# Distributions whose tools need promptflow itself; their four common tools are built in instead.
_SKIPPED_DISTRIBUTIONS = frozenset({"promptflow", "promptflow-tools", "promptflow-core", "promptflow-devkit"})


# The connection classes of the stored connection types, as package tools' metadata names them.
_CONNECTION_CLASSES = {"custom": "CustomConnection", "open_ai": "OpenAIConnection",
                       "azure_open_ai": "AzureOpenAIConnection", "serp": "SerpConnection"}


def connection_mismatch(node: str, tool_input: ToolInput, connection: str, kind: str) -> str | None:
    """What is wrong when input ``tool_input`` of ``node`` names stored connection ``connection`` of type
    ``kind`` that it does not take, else ``None``. promptflow 1.18.5 refuses such a node when it loads the
    tools: "Input 'connection' for node 'n' of type 'OpenAIConnection' is not supported, valid types
    ['CustomConnection']"."""
    if not tool_input.is_connection or tool_input.accepts_connection(kind):
        return None
    article = "an" if kind[:1] in "aeiou" else "a"
    return (f"Input '{tool_input.name}' of node '{node}' takes a {' or '.join(tool_input.types)}, but connection "
            f"'{connection}' is {article} {kind} connection ({_CONNECTION_CLASSES.get(kind, kind)}); name a "
            "connection of a type it takes (`flowline connection list` shows them).")


@dataclass(frozen=True)
class ToolInput:
    """One input of a package tool, as its metadata declares it."""

    name: str
    types: tuple[str, ...] = ()
    has_default: bool = False
    default: Any = None
    enum: tuple[Any, ...] = ()
    description: str = ""

    @property
    def required(self) -> bool:
        """True when the metadata gives no default (promptflow then needs the node to set it)."""
        return not self.has_default

    @property
    def is_connection(self) -> bool:
        """True when the input takes a connection (its types name connection classes)."""
        return bool(self.types) and all(t.endswith("Connection") for t in self.types)

    def accepts_connection(self, kind: str) -> bool:
        """Whether a stored connection of type ``kind`` (``open_ai``, ``custom``, ...) fits this connection
        input: its class is among the types, or it is a custom one and a type names a class of the tool's own
        (a strong-typed custom connection)."""
        return _CONNECTION_CLASSES.get(kind, kind) in self.types or (
            kind == "custom" and any(t not in _CONNECTION_CLASSES.values() for t in self.types))

    def to_json(self) -> dict[str, Any]:
        """The input in promptflow's metadata shape."""
        data: dict[str, Any] = {"type": list(self.types)}
        if self.has_default:
            data["default"] = self.default
        if self.enum:
            data["enum"] = list(self.enum)
        if self.description:
            data["description"] = self.description
        return data


@dataclass(frozen=True)
class PackageTool:
    """A tool an installed package registers (or one of the built-ins), by its id."""

    id: str
    name: str
    type: str
    module: str
    function: str
    class_name: str | None = None
    inputs: tuple[ToolInput, ...] = ()
    description: str = ""
    package: str = ""
    package_version: str = ""

    def input(self, name: str) -> ToolInput | None:
        """The input called ``name``."""
        return next((i for i in self.inputs if i.name == name), None)

    def signature(self) -> ToolSignature:
        """The tool as a code tool's signature, so checks, completion and hover treat both alike.
        Inputs with a default get it as text (``default_text``) so that they count as optional."""
        parameters = tuple(Parameter(i.name, " | ".join(i.types) or None, i.default if i.has_default else None,
                                     json.dumps(i.default) if i.has_default else None)
                           if i.has_default else Parameter(i.name, " | ".join(i.types) or None)
                           for i in self.inputs)
        return ToolSignature(self.function, parameters, accepts_kwargs=self.type in ("custom_llm", "llm"),
                             is_async=False, docstring=self.description or None, span=Span(0, 0, 0, 0),
                             class_name=self.class_name)

    def to_json(self) -> dict[str, Any]:
        """The tool in the shape ``pf tool list`` prints its package tools."""
        data: dict[str, Any] = {"name": self.name, "description": self.description, "type": self.type,
                                "module": self.module}
        if self.class_name:
            data["class_name"] = self.class_name
        data["function"] = self.function
        data["inputs"] = {i.name: i.to_json() for i in self.inputs}
        data["package"] = self.package
        data["package_version"] = self.package_version
        return data


@dataclass(frozen=True)
class Catalog:
    """The package tools known in this environment, and the entry points that could not be read."""

    tools: tuple[PackageTool, ...] = ()
    errors: tuple[str, ...] = ()

    @cached_property
    def _by_id(self) -> dict[str, PackageTool]:
        return {t.id: t for t in reversed(self.tools)}  # the first of equal ids wins

    def get(self, tool_id: str) -> PackageTool | None:
        """The tool with this id."""
        return self._by_id.get(tool_id)

    def closest(self, tool_id: str, count: int = 3) -> list[str]:
        """Ids of the known tools that look most like ``tool_id``."""
        return difflib.get_close_matches(tool_id, list(self._by_id), n=count, cutoff=0.5)

    def to_json(self) -> dict[str, Any]:
        """``{id: metadata}`` of every tool, in promptflow's shape."""
        return {t.id: t.to_json() for t in self.tools}

    def failures_for(self, tool_id: str) -> str | None:
        """Why tool ``tool_id`` may be missing when listing some package's tools failed: those errors (the ones
        of the package named like the tool's top module when there are such, else all), else ``None``."""
        top = tool_id.split(".", 1)[0].lower().replace("-", "_")
        own = [e for e in self.errors if f"package '{top}'" in e.lower().replace("-", "_")]
        return "; ".join(own or self.errors) or None


ToolSource = Callable[[], Catalog]
"""Where checks and editor services get the catalog from (called only when a flow uses a package tool)."""


def _text(value: Any) -> str:
    if isinstance(value, Mapping):  # promptflow-tools describe some tools per surface: {default: ..., ...}
        value = value.get("default", "")
    return "" if value is None else str(value)


def parse_tool(tool_id: str, meta: Mapping[str, Any], package: str = "", version: str = "") -> PackageTool:
    """One tool from its metadata; lenient (missing fields become empty, ``module``/``function`` are taken
    from the id when absent). Raises ``ValueError`` when the metadata is not a mapping."""
    if not isinstance(meta, Mapping):
        raise ValueError(f"the metadata of tool '{tool_id}' is not a mapping")
    inputs = []
    for name, spec in (meta.get("inputs") or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        types = spec.get("type") or ()
        inputs.append(ToolInput(
            str(name), tuple(str(t) for t in (types if isinstance(types, (list, tuple)) else [types])),
            "default" in spec, spec.get("default"), tuple(spec.get("enum") or ()), _text(spec.get("description"))))
    head, _, last = tool_id.rpartition(".")
    return PackageTool(tool_id, _text(meta.get("name")) or last, _text(meta.get("type")) or "python",
                       _text(meta.get("module")) or head, _text(meta.get("function")) or last,
                       _text(meta.get("class_name")) or None, tuple(inputs), _text(meta.get("description")),
                       package, version)


def catalog_from_json(data: Mapping[str, Any], errors: tuple[str, ...] = ()) -> Catalog:
    """A catalog from ``{id: metadata}`` as :meth:`Catalog.to_json` writes it (``package`` inside)."""
    tools = []
    for tool_id, meta in data.items():
        try:
            tools.append(parse_tool(tool_id, meta, _text(meta.get("package")), _text(meta.get("package_version"))))
        except ValueError as exc:
            errors = (*errors, str(exc))
    return Catalog(tuple(tools), errors)


def _entry_point_tools() -> tuple[list[PackageTool], list[str]]:
    from importlib.metadata import entry_points

    from flowline.compat import shim

    shim.install()  # a registering function may import promptflow's API, served by the stand-in
    tools: list[PackageTool] = []
    errors: list[str] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        package = str(dist.metadata["Name"]) if dist is not None else entry.module
        version = str(dist.version) if dist is not None else ""
        if package.lower().replace("_", "-") in _SKIPPED_DISTRIBUTIONS:
            continue
        where = f"Package '{package}' (entry point '{entry.name} = {entry.value}')"
        try:
            listing = entry.load()()
            if not isinstance(listing, Mapping):
                raise ValueError(f"it returned {type(listing).__name__}, not a mapping of tool ids to metadata")
        except Exception as exc:  # one broken package must not hide the others' tools
            errors.append(f"{where} could not list its tools: {type(exc).__name__}: {exc}")
            continue
        for tool_id, meta in listing.items():
            try:  # nor one bad entry its package's good ones
                tools.append(parse_tool(str(tool_id), meta, package, version))
            except ValueError as exc:
                errors.append(f"{where} lists a tool Flowline skips: {exc}")
    return tools, errors


@lru_cache(maxsize=1)
def installed_tools() -> Catalog:
    """The built-in tools and every tool the installed packages register, read once per process.

    Imports each registering package (call it only where user code may run)."""
    from flowline.flow.builtin_tools import builtin_tools

    found, errors = _entry_point_tools()
    return Catalog((*builtin_tools(), *found), tuple(errors))


def tools_in_child(python: str = sys.executable, timeout: float = 30.0) -> Catalog:
    """The catalog as ``python -m flowline tool list`` prints it, read in a child process so that no
    package code runs in the caller (the language server). A child that fails gives the built-ins and
    the reason in ``errors``."""
    from flowline.flow.builtin_tools import builtin_tools

    try:
        done = subprocess.run([python, "-m", "flowline", "tool", "list"], capture_output=True, text=True,
                              timeout=timeout, check=False)
        data = json.loads(done.stdout)
        errors = tuple(line for line in done.stderr.splitlines() if line.strip())
        return catalog_from_json(data["package"], errors)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        return Catalog(builtin_tools(), (f"Cannot list the installed package tools: {exc}",))
