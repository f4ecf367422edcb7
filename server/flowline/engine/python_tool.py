"""Loading Python tool files and calling their ``@tool`` function.

Tool files are imported as modules named after their path in the flow folder (``tools/x.py`` →
``tools.x``), so a tool and a sibling ``import`` of the same file share one module.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from flowline.connections.strong_type import as_annotated
from flowline.engine.image_inputs import literal_image
from flowline.flow.files import read_disk
from flowline.flow.signatures import read_tool_source
from flowline.flow.types import ConversionError, convert_node_input, flow_type_of


class ToolLoadError(Exception):
    """A tool file that cannot be imported or has no usable ``@tool`` function."""


@dataclass(frozen=True)
class PythonTool:
    """A loaded tool: the callable, its signature and the flow types of its parameters."""

    func: Callable[..., Any]
    signature: inspect.Signature
    param_types: dict[str, str | None]
    accepts_kwargs: bool
    init_params: frozenset[str] = frozenset()
    connection_params: dict[str, tuple[type, ...]] = field(default_factory=dict)
    load_connection: Callable[[str], Any] | None = None

    def has_default(self, name: str) -> bool:
        """True when parameter ``name`` has a default value."""
        param = self.signature.parameters.get(name)
        return param is not None and param.default is not inspect.Parameter.empty

    def convert_literal(self, node: str, name: str, value: Any) -> Any:
        """Convert a literal node input to the parameter's type, as Prompt flow does.

        A parameter annotated with a connection class receives the connection the literal names.
        """
        wanted = self.connection_params.get(name)
        if wanted and self.load_connection is not None:
            connection = as_annotated(self.load_connection(str(value)), wanted)
            if not isinstance(connection, wanted):
                kinds = " or ".join(c.__name__ for c in wanted)
                raise ConversionError(f"Input '{name}' of node '{node}' needs a {kinds}, but connection "
                                      f"'{value}' is a {type(connection).__name__}.")
            return connection
        kind = self.param_types.get(name)
        if kind == "image":
            return literal_image(node, name, value)
        return convert_node_input(node, name, value, kind)


def _module_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        return ".".join(relative.with_suffix("").parts)
    return path.stem


PF_MAIN = "__pf_main__"
"""The ``__name__`` of a tool module, as promptflow 1.18.5 names every tool file it loads."""


def load_module(path: Path, roots: list[Path]) -> ModuleType:
    """Import a tool file (once per process) under its name relative to the first root holding it; inside,
    ``__name__`` is ``"__pf_main__"`` (as under promptflow, so ``if __name__ == "__pf_main__":`` blocks run)
    and ``__file__`` is absolute (the path as given, not resolved, so breakpoints set on it bind)."""
    path = path.absolute()
    name = _module_name(path, roots)
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) and \
            Path(existing.__file__ or "").resolve() == path.resolve():
        return existing
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
        raise ToolLoadError(f"Cannot load '{path}' as a Python module.")
    module = importlib.util.module_from_spec(spec)
    module.__name__ = PF_MAIN
    # Kept under its path name too: a sibling's `import tools.x` gets this module, not a second copy.
    sys.modules[name] = module
    try:
        # What exec_module does, without its check that the module's name is the spec's.
        code = spec.loader.get_code(name)
        if code is None:
            raise ToolLoadError(f"Cannot load '{path}' as a Python module.")
        exec(code, vars(module))  # noqa: S102 (running the tool file is the point)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _resolve_hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # annotations that cannot be evaluated keep their raw form
        return dict(getattr(func, "__annotations__", {}))


def _connection_classes(annotation: Any) -> tuple[type, ...]:
    """The connection classes an annotation accepts (``X``, ``Optional[X]``, ``Union[X, Y]``)."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Union else (annotation,)
    classes = tuple(a for a in args if a is not type(None))
    if classes and all(getattr(c, "__flowline_connection__", False) for c in classes):
        return classes
    return ()


def _defined_in(cls: type, namespace: dict[str, Any]) -> bool:
    """Whether class ``cls`` was defined in the module whose globals are ``namespace``."""
    methods = [m for m in vars(cls).values() if inspect.isfunction(m)]
    return bool(methods) and all(m.__globals__ is namespace for m in methods)


def find_tool(module: ModuleType, path: Path, init_args: dict[str, Any],
              load_connection: Callable[[str], Any] | None = None) -> PythonTool:
    """The module's ``@tool`` function (or a ``@tool`` method of a class, instantiated)."""
    candidates: list[tuple[Any, Any]] = []
    # Defined in this file: every tool module is named "__pf_main__", so a name alone cannot tell.
    here = vars(module)
    for value in vars(module).values():
        if inspect.isfunction(value) and hasattr(value, "__flowline_tool__") and value.__globals__ is here:
            candidates.append((value, None))
        elif inspect.isclass(value) and _defined_in(value, here):
            for member in vars(value).values():
                if inspect.isfunction(member) and hasattr(member, "__flowline_tool__"):
                    candidates.append((member, value))
    if not candidates:
        # Decorated by another library's @tool: find the function by reading the source.
        tools = read_tool_source(read_disk(path) or "").tools  # it imported, so Python could decode it
        for sig in tools:
            owner = getattr(module, sig.class_name) if sig.class_name else None
            func = getattr(owner if owner is not None else module, sig.name, None)
            if func is not None:
                candidates.append((inspect.unwrap(func), owner))
    if len(candidates) != 1:
        count = "no" if not candidates else str(len(candidates))
        raise ToolLoadError(f"'{path.name}' has {count} @tool functions; it needs exactly one.")
    func, owner = candidates[0]
    return make_tool(func, owner, init_args, load_connection)


def make_tool(func: Callable[..., Any], owner: Any, init_args: dict[str, Any],
              load_connection: Callable[[str], Any] | None = None,
              connection_inputs: frozenset[str] = frozenset()) -> PythonTool:
    """The tool of function ``func``, or of method ``func`` of class ``owner``, which is built first from the
    node inputs that are parameters of its ``__init__`` (as promptflow 1.18.5 builds a class tool; the
    other inputs go to the method). Inputs annotated with a connection class, or named in
    ``connection_inputs`` (a package tool's metadata says so), receive the connection their value names.
    Raises what ``__init__`` raises."""
    init_params: frozenset[str] = frozenset()
    if owner is not None:
        init_sig = inspect.signature(owner.__init__)
        init_params = frozenset(p for p in init_sig.parameters if p != "self")
        init_hints = _resolve_hints(owner.__init__)
        values = {}
        for key, value in init_args.items():
            if key in init_params:
                classes = _connection_classes(init_hints.get(key))
                wanted = classes or key in connection_inputs
                values[key] = as_annotated(load_connection(str(value)), classes) if wanted and load_connection \
                    else value
        instance = owner(**values)
        func = getattr(instance, func.__name__)
    signature = inspect.signature(func)
    hints = _resolve_hints(func)
    types = {
        name: flow_type_of(hints.get(name, param.annotation), param.default,
                           param.default is not inspect.Parameter.empty)
        for name, param in signature.parameters.items()
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    }
    accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    connections = {name: _connection_classes(hints.get(name)) or ((object,) if name in connection_inputs else ())
                   for name in signature.parameters}
    return PythonTool(func, signature, types, accepts_kwargs, init_params,
                      {k: v for k, v in connections.items() if v}, load_connection)
