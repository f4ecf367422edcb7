"""What the commands share: the parser class, the exit codes, :class:`UsageError` and the helpers that
turn command-line arguments into values (each a usage error, exit code 2, when malformed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or inputs: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 as well; keep one clear line
        self.print_usage(sys.stderr)
        raise UsageError(message)


def pairs(items: list[str] | None, option: str) -> dict[str, str]:
    """``key=value`` arguments as a dict; anything else is a usage error naming the option."""
    values = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option}: '{item}' is not of the form key=value.")
        values[key] = value
    return values


def environment(items: list[str] | None) -> dict[str, str]:
    """``--environment-variables``: ``KEY=VALUE`` items and ``.env`` files (``KEY=VALUE`` lines; blank
    lines, ``#`` comments and ``export`` ignored, one pair of quotes around a value removed), later
    items winning, as promptflow 1.18.5 takes them. A ``${connection.field}`` value is resolved when
    the run starts (:func:`flowline.engine.prepare.run_environment`)."""
    values: dict[str, str] = {}
    for item in items or []:
        if "=" in item:
            values.update(pairs([item], "--environment-variables"))
            continue
        if not item.endswith(".env"):
            raise UsageError(f"--environment-variables: '{item}' is neither KEY=VALUE nor a .env file.")
        try:
            lines = Path(item).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--environment-variables: cannot read '{item}': {exc}") from exc
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.removeprefix("export ").partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if not sep or not key.strip():
                raise UsageError(f"--environment-variables: '{item}' has a line that is not KEY=VALUE: {line}")
            values[key.strip()] = value
    return values


def parse_inputs(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs (values are strings), or one JSON / JSONL file (its first line)."""
    if not items:
        return {}
    if len(items) == 1 and "=" not in items[0]:
        path = Path(items[0])
        if not path.is_file():
            raise UsageError(f"--inputs: '{items[0]}' is neither k=v nor an existing JSON file.")
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text.splitlines()[0] if path.suffix == ".jsonl" else text)
        except (ValueError, IndexError, OSError) as exc:
            raise UsageError(f"--inputs: cannot read JSON from '{path}': {exc}") from exc
        if not isinstance(data, dict):
            raise UsageError(f"--inputs: '{path}' must hold a JSON object of input names to values.")
        return data
    return dict(pairs(items, "--inputs"))


def flow_file(location: str) -> Path:
    from flowline.flow.build import resolve_flow_path

    path = resolve_flow_path(Path(location))
    if not path.is_file():
        raise UsageError(f"No flow found at '{location}': expected a folder with flow.dag.yaml, or the file itself.")
    return path


def port(text: str) -> int:
    """A TCP port number from the command line (1-65535)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port: give a number from 1 to 65535")
    return number
