"""A run's lines as promptflow's ``get_details`` tabulates them: a pandas DataFrame when pandas is
installed (an optional extra, ``flowline[pandas]``), else the same rows as a list of dicts."""

from __future__ import annotations

from typing import Any

from flowline.runs.store import RunFolder, RunRecord

FAILED = "(Failed)"
"""What a failed line's output cells hold (promptflow 1.18.5 writes the same)."""


def details_rows(record: RunRecord, max_results: int | None) -> list[dict[str, Any]]:
    """One dict per line, in line order: ``inputs.<name>`` of each flow input the column mapping gave,
    ``inputs.line_number``, ``inputs.<name>`` of those that took their default, then ``outputs.<name>`` of each
    output (``"(Failed)"`` in every output of a line that failed). The first ``max_results`` lines (``None``:
    all). Mirrors promptflow 1.18.5's columns (recorded by bench/pf_sdk_reference.py: ``inputs.text,
    inputs.line_number, outputs.category, outputs.length``; observed: inputs a, b mapped and c defaulted give
    ``inputs.a, inputs.b, inputs.line_number, inputs.c``)."""
    folder = RunFolder(record.folder)
    try:
        mapped = set(folder.meta().get("column_mapping") or {})
    except (OSError, ValueError):
        mapped = set()
    lines = sorted(folder.lines().items())
    if max_results is not None:
        lines = lines[:max_results]
    outputs: list[str] = []
    for _, line in lines:
        for key in line.get("outputs") or {}:
            if key not in outputs:
                outputs.append(key)
    rows = []
    for number, line in lines:
        inputs = {k: v for k, v in (line.get("inputs") or {}).items() if k != "line_number"}
        row = {f"inputs.{k}": v for k, v in inputs.items() if k in mapped}
        row["inputs.line_number"] = number
        row.update({f"inputs.{k}": v for k, v in inputs.items() if k not in mapped})
        done = line.get("status") == "Completed" and isinstance(line.get("outputs"), dict)
        for key in outputs:
            row[f"outputs.{key}"] = line["outputs"].get(key) if done else FAILED
        rows.append(row)
    return rows


def frame(rows: list[dict[str, Any]]) -> Any:
    """``rows`` as a pandas DataFrame (columns in the rows' order), or the rows themselves without pandas."""
    try:
        import pandas  # type: ignore[import-untyped]  # an optional extra, without stubs
    except ImportError:
        return rows
    return pandas.DataFrame(rows)
