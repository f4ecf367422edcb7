"""Input data for batch runs: JSON Lines, JSON, CSV and TSV files, or a folder of them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from flowline.flow.files import UserFileError, read_user_text

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv")


class DataError(Exception):
    """Data that cannot be read; the message names the file and line."""


def _read_file(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    try:
        text = read_user_text(path, "data file", "utf-8-sig")
    except UserFileError as exc:
        raise DataError(str(exc)) from exc
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{path}:{number}: not valid JSON ({exc}).") from exc
            if not isinstance(row, dict):
                raise DataError(f"{path}:{number}: each line must be a JSON object.")
            rows.append(row)
        return rows
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{path}: not valid JSON ({exc}).") from exc
        data = data if isinstance(data, list) else [data]
        if not all(isinstance(row, dict) for row in data):
            raise DataError(f"{path}: must hold a JSON object or a list of objects.")
        return data
    if suffix in (".csv", ".tsv"):
        return [dict(row) for row in csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")]
    raise DataError(f"'{path}' is not a data file; use {', '.join(SUFFIXES)}.")


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a data file, or of every data file in a folder (in name order)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise DataError(f"Folder '{path}' holds no data files ({', '.join(SUFFIXES)}).")
        return [row for file in files for row in _read_file(file)]
    if not path.exists():
        raise DataError(f"Data '{path}' does not exist.")
    return _read_file(path)
