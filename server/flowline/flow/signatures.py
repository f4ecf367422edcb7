"""Tool signatures read from source with ``ast`` — user code is never imported to validate a flow."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from flowline.flow.files import read_disk
from flowline.flow.spans import Span

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Parameter:
    """One parameter of a tool function."""

    name: str
    annotation: str | None
    default: Any = _NO_DEFAULT
    default_text: str | None = None

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is _NO_DEFAULT and self.default_text is None


@dataclass(frozen=True)
class ToolSignature:
    """The ``@tool`` function of a file: its parameters and where it is defined."""

    name: str
    parameters: tuple[Parameter, ...]
    accepts_kwargs: bool
    is_async: bool
    docstring: str | None
    span: Span
    class_name: str | None = None
    return_annotation: str | None = None

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``."""
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class ToolFile:
    """What a Python tool file offers: its ``@tool`` functions, or why it could not be read."""

    tools: tuple[ToolSignature, ...]
    syntax_error: str | None = None
    error_span: Span | None = None


def _is_tool_decorator(dec: ast.expr) -> bool:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Name):
        return target.id == "tool"
    return isinstance(target, ast.Attribute) and target.attr == "tool"


def _signature(func: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str | None) -> ToolSignature:
    args = func.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = []
    pairs = list(zip(positional, defaults, strict=True)) + list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    if class_name is not None and pairs:
        pairs = pairs[1:]  # self
    for arg, default in pairs:
        annotation = ast.unparse(arg.annotation) if arg.annotation is not None else None
        if default is None:
            params.append(Parameter(arg.arg, annotation))
            continue
        try:
            value = ast.literal_eval(default)
        except ValueError:
            value = _NO_DEFAULT
        params.append(Parameter(arg.arg, annotation, value, ast.unparse(default)))
    end_col = func.col_offset + len("async def " if isinstance(func, ast.AsyncFunctionDef) else "def ") + len(func.name)
    return ToolSignature(
        name=func.name,
        parameters=tuple(params),
        accepts_kwargs=args.kwarg is not None,
        is_async=isinstance(func, ast.AsyncFunctionDef),
        docstring=ast.get_docstring(func),
        span=Span(func.lineno - 1, func.col_offset, func.lineno - 1, end_col),
        class_name=class_name,
        return_annotation=ast.unparse(func.returns) if func.returns is not None else None,
    )


@lru_cache(maxsize=512)
def read_tool_source(text: str) -> ToolFile:
    """Find the ``@tool`` functions (and ``@tool`` methods of classes) in Python source text.

    Results are cached by text: an editor asks again for every keystroke in the flow.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        line = (exc.lineno or 1) - 1
        col = max((exc.offset or 1) - 1, 0)
        return ToolFile((), exc.msg, Span(line, col, line, col + 1))
    found = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_is_tool_decorator(d) for d in stmt.decorator_list):
                found.append(_signature(stmt, None))
        elif isinstance(stmt, ast.ClassDef):
            init = next((i for i in stmt.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None)
            init_params = _signature(init, stmt.name).parameters if init is not None else ()
            for item in stmt.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                        _is_tool_decorator(d) for d in item.decorator_list):
                    # A class-based tool takes its __init__ arguments from the node's inputs too.
                    method = _signature(item, stmt.name)
                    found.append(replace(method, parameters=init_params + method.parameters))
    return ToolFile(tuple(found))


def read_tool_file(path: Path) -> ToolFile | None:
    """Read a tool file from disk (decoded as Python does); ``None`` when it cannot be read."""
    text = read_disk(path)
    return None if text is None else read_tool_source(text)
