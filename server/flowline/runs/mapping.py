"""Column mapping: which data column (or referenced run's output/input) feeds each flow input.

As Prompt flow does: a flow input without a mapping reads the data column of the same name,
unless it has a default (then the default applies); ``${data.col}``, ``${run.outputs.col}`` and
``${run.inputs.col}`` pick a column; anything else is a literal. Lines of a referenced run are
matched by ``line_number``, so a line that failed there is left out here. A mapping that no line
can satisfy is an error before any line runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flowline.flow.model import Flow

_REFERENCE = re.compile(r"^\$\{([^{}]+)\}$")
LINE_NUMBER = "line_number"


class MappingError(Exception):
    """A column mapping that cannot be applied; the message lists what is missing and what exists."""


@dataclass(frozen=True)
class Line:
    """One line to run: its number and the flow inputs mapped for it."""

    number: int
    inputs: dict[str, Any]


def complete_mapping(flow: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """The user's mapping plus ``${data.<input>}`` for every unmapped input without a default."""
    mapping: dict[str, Any] = {item.name: f"${{data.{item.name}}}" for item in flow.inputs
                               if item.default is None or item.default.value is None}
    mapping.update(given)
    return mapping


def defaulted_columns(flow: Flow, given: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Flow inputs with a default that the data has a column of the same name for, and no mapping
    names: as in promptflow 1.18.5 they keep their default, which a user may not expect."""
    columns = {key for row in rows[:20] for key in row}
    return [item.name for item in flow.inputs if item.name in columns and item.name not in given
            and item.default is not None and item.default.value is not None]


def merge_sources(sources: dict[str, list[dict[str, Any]]]) -> list[tuple[int, dict[str, dict[str, Any]]]]:
    """Align the sources line by line: by index, or by ``line_number`` where rows carry it."""
    by_line: dict[int, dict[str, dict[str, Any]]] = {}
    for name, rows in sources.items():
        numbered = any(LINE_NUMBER in row for row in rows)
        for index, row in enumerate(rows):
            number = int(row[LINE_NUMBER]) if numbered and LINE_NUMBER in row else index
            by_line.setdefault(number, {})[name] = row
    return sorted((n, values) for n, values in by_line.items() if len(values) == len(sources))


def _lookup(values: dict[str, dict[str, Any]], expression: str) -> tuple[bool, Any]:
    parts = expression.split(".")
    for cut in range(1, len(parts)):
        source, column = ".".join(parts[:cut]), ".".join(parts[cut:])
        if source in values and column in values[source]:
            return True, values[source][column]
    return False, None


def apply_mapping(sources: dict[str, list[dict[str, Any]]], mapping: dict[str, Any]) -> list[Line]:
    """The lines to run; raises :class:`MappingError` when a reference matches no column."""
    merged = merge_sources(sources)
    if not merged:
        sizes = ", ".join(f"{name}: {len(rows)} rows" for name, rows in sources.items())
        raise MappingError(f"No line has data from every source ({sizes}).")
    lines = []
    for number, values in merged:
        inputs: dict[str, Any] = {}
        for name, expression in mapping.items():
            match = _REFERENCE.match(expression) if isinstance(expression, str) else None
            if match is None:
                inputs[name] = expression
                continue
            found, value = _lookup(values, match.group(1))
            if not found:
                columns = "; ".join(f"{src}: {', '.join(sorted(str(k) for k in row if k != LINE_NUMBER))}"
                                    for src, row in values.items())
                raise MappingError(f"Column mapping {name}={expression} matches no column (line {number} has "
                                   f"{columns}). Fix it with --column-mapping {name}='${{data.<column>}}'.")
            inputs[name] = value
        lines.append(Line(number, inputs))
    return lines
