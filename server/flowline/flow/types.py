"""Value conversion between the flow's declared types and Python values, as Prompt flow converts.

Flow inputs are converted to their declared ``type``; literal node inputs to the type of the tool
parameter (its annotation, ``Optional[X]`` read as ``X``, else the type of its default).
"""

from __future__ import annotations

import enum
import inspect
import json
import typing
from typing import Any


class ConversionError(ValueError):
    """A value that cannot be read as the declared type."""


def convert_flow_input(value: Any, type_name: str | None) -> Any:
    """Convert a value to a flow type: string, int, double, bool, list or object."""
    try:
        if type_name == "string":
            return str(value)
        if type_name == "int":
            return int(value)
        if type_name == "double":
            return float(value)
        if type_name == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ConversionError(f"{value!r} is not true or false")
        if type_name == "list":
            if isinstance(value, str):
                value = json.loads(value)
            if not isinstance(value, list):
                raise ConversionError(f"{value!r} is not a list")
            return value
        if type_name == "object" and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value
    except ConversionError:
        raise
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{value!r} is not valid JSON ({exc.msg} at column {exc.colno})") from exc
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"{value!r} is not a valid {type_name}") from exc


def convert_node_input(node: str, name: str, value: Any, type_name: str | None) -> Any:
    """A literal node input converted to ``type_name`` (unchanged for ``None``); errors name the input."""
    if type_name is None:
        return value
    try:
        return convert_flow_input(value, type_name)
    except ConversionError as exc:
        raise ConversionError(f"Input '{name}' of node '{node}' is not of type {type_name}: {exc}.") from exc


_PY_TO_FLOW = {int: "int", float: "double", bool: "bool", str: "string", list: "list"}


def flow_type_of(annotation: Any, default: Any = None, has_default: bool = False) -> str | None:
    """The flow type a tool parameter expects (``image`` for ``Image``); ``None`` for connections."""
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else object
    if annotation is inspect.Parameter.empty and has_default:
        annotation = type(default)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "string"
    if annotation in _PY_TO_FLOW:
        return _PY_TO_FLOW[annotation]
    if getattr(annotation, "__flowline_connection__", False):
        return None
    if getattr(annotation, "__flowline_image__", False):  # flowline.images.Image (promptflow's Image)
        return "image"
    return "object"
