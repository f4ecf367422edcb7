"""What the commands share: the parser class, the exit codes, :class:`UsageError` and the helpers that
turn command-line arguments into values (each a usage error, exit code 2, when malformed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flowline.cli.env_file import EnvFileError, parse_env

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
    """``--environment-variables``: ``KEY=VALUE`` items and ``.env`` files (read by python-dotenv's rules:
    :mod:`flowline.cli.env_file`), later items winning, as promptflow 1.18.5 takes them. A
    ``${connection.field}`` value is resolved when the run starts (:func:`flowline.engine.prepare.run_environment`)."""
    values: dict[str, str] = {}
    for item in items or []:
        if "=" in item:
            values.update(pairs([item], "--environment-variables"))
            continue
        if not item.endswith(".env"):
            raise UsageError(f"--environment-variables: '{item}' is neither KEY=VALUE nor a .env file.")
        try:
            values.update(parse_env(Path(item).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--environment-variables: cannot read '{item}': {exc}") from exc
        except EnvFileError as exc:
            raise UsageError(f"--environment-variables: '{item}': {exc}") from exc
    return values


def _inputs_file(item: str) -> dict[str, Any]:
    """The JSON object of an ``--inputs`` file (of a ``.jsonl`` file, its first line)."""
    from flowline.flow.files import UserFileError, read_user_text

    path = Path(item)
    if not path.is_file():
        raise UsageError(f"--inputs: '{item}' is neither k=v nor an existing JSON file.")
    try:
        text = read_user_text(path, "inputs file")
        data = json.loads(text.splitlines()[0] if path.suffix == ".jsonl" else text)
    except UserFileError as exc:
        raise UsageError(f"--inputs: {exc}") from exc
    except (ValueError, IndexError) as exc:
        raise UsageError(f"--inputs: cannot read JSON from '{path}': {exc}.") from exc
    if not isinstance(data, dict):
        raise UsageError(f"--inputs: '{path}' must hold a JSON object of input names to values.")
    return data


def parse_inputs(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs (values are strings) and JSON / JSONL files (a file's object; a ``.jsonl``
    file's first line), merged in order, a later value winning: ``--inputs in.json s=over``.
    promptflow 1.18.5 takes one file alone (``--inputs in.json``) and refuses it beside pairs
    (``Usage error: --inputs KEY=VALUE``); its ``--input FILE.jsonl`` gives the file to override."""
    values: dict[str, Any] = {}
    for item in items or []:
        values.update(pairs([item], "--inputs") if "=" in item else _inputs_file(item))
    return values


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
