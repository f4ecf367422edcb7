"""Stand-in for ``promptflow._core.tool``: ``tool``, ``ToolProvider``, ``ToolType`` and the input
settings custom tools declare (``@tool(input_settings={"x": InputSetting(...)})``).

Input settings describe how promptflow's editors show a tool's inputs (dynamic lists, inputs shown
only when another has some value); Flowline keeps them on the tool and runs the tool the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, NoReturn

from flowline.compat.shim import missing_attribute
from flowline.tools import ToolProvider, tool


class ToolType(str, Enum):
    """The kinds of tool promptflow knows (``@tool(type=...)``)."""

    LLM = "llm"
    PYTHON = "python"
    PROMPT = "prompt"
    CUSTOM_LLM = "custom_llm"
    CSHARP = "csharp"


def _function_path(function: str | Callable[..., Any]) -> str:
    """``module.name`` of a function, or the text given (promptflow accepts both)."""
    if isinstance(function, str):
        return function
    return f"{function.__module__}.{function.__qualname__}"


class DynamicList:
    """The function that lists an input's choices (``function``; its parameters read the tool inputs
    ``input_mapping`` names). Kept for editors: Flowline never calls it while running."""

    def __init__(self, function: str | Callable[..., Any], input_mapping: dict[str, str] | None = None) -> None:
        self.function = function
        self.func_path = _function_path(function)
        self.input_mapping = dict(input_mapping or {})


class GeneratedBy:
    """The functions that generate an input's value and read it back (kept for editors)."""

    def __init__(self, function: str | Callable[..., Any], reverse_function: str | Callable[..., Any],
                 input_settings: dict[str, Any] | None = None) -> None:
        self.func_path = _function_path(function)
        self.reverse_func_path = _function_path(reverse_function)
        self.input_settings = dict(input_settings or {})


class InputSetting:
    """How an editor shows one tool input: ``is_multi_select``, ``allow_manual_entry``, ``enabled_by``,
    ``enabled_by_value``, ``dynamic_list``, ``generated_by``; other keywords are kept as given."""

    def __init__(self, **settings: Any) -> None:
        self.is_multi_select: bool | None = settings.pop("is_multi_select", None)
        self.allow_manual_entry: bool | None = settings.pop("allow_manual_entry", None)
        self.enabled_by: str | None = settings.pop("enabled_by", None)
        self.enabled_by_value: list[Any] | None = settings.pop("enabled_by_value", None)
        self.dynamic_list: DynamicList | None = settings.pop("dynamic_list", None)
        self.generated_by: GeneratedBy | None = settings.pop("generated_by", None)
        self.extra = settings


__all__ = ["DynamicList", "GeneratedBy", "InputSetting", "ToolProvider", "ToolType", "tool"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
