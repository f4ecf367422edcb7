"""Connection YAML files, in Prompt flow's format.

    name: my_openai            name: my_custom
    type: open_ai              type: custom
    api_key: ${env:KEY}        configs: {endpoint: https://...}
    base_url: https://...      secrets: {token: ${env:TOKEN}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowline.connections.model import CLASSES, TYPE_NAMES, Connection
from flowline.connections.store import ConnectionStoreError
from flowline.flow.files import UserFileError, read_user_text
from flowline.flow.parse import YMap, parse, to_python
from flowline.flow.problems import did_you_mean

_IGNORED = {"$schema", "name", "type", "module", "configs", "secrets"}


def connection_from_yaml(path: Path, overrides: dict[str, str] | None = None) -> Connection:
    """Read a connection file; ``overrides`` (``--set k=v``, or ``configs.k``/``secrets.k``) win."""
    try:
        text = read_user_text(path, "connection file")
    except UserFileError as exc:
        raise ConnectionStoreError(str(exc)) from exc
    document = parse(text)
    if document.problems:
        problem = document.problems[0]
        raise ConnectionStoreError(f"{path}:{problem.span.human()}: {problem.message}")
    if not isinstance(document.root, YMap):
        raise ConnectionStoreError(f"{path}: a connection file must be a mapping with 'name' and 'type'.")
    data: dict[str, Any] = to_python(document.root)
    for key, value in (overrides or {}).items():
        section, _, field = key.partition(".")
        if field and section in ("configs", "secrets"):
            data.setdefault(section, {})[field] = value
        else:
            data[key] = value
    return connection_from_dict(data, str(path))


def connection_from_dict(data: dict[str, Any], origin: str) -> Connection:
    """Build a connection from its file's mapping."""
    name, kind = data.get("name"), data.get("type")
    if not isinstance(name, str) or not name:
        raise ConnectionStoreError(f"{origin}: the connection needs a 'name'.")
    if kind not in CLASSES:
        hint = did_you_mean(str(kind), TYPE_NAMES)
        raise ConnectionStoreError(f"{origin}: unknown connection type {kind!r}.{hint} "
                                   f"Types: {', '.join(TYPE_NAMES)}.")
    cls = CLASSES[kind]
    if kind == "custom":
        configs = {k: v for k, v in (data.get("configs") or {}).items()}
        secrets = {k: str(v) for k, v in (data.get("secrets") or {}).items()}
        return cls(name, configs, secrets)
    unknown = [k for k in data if k not in _IGNORED and k not in cls.FIELDS]
    if unknown:
        raise ConnectionStoreError(f"{origin}: {kind} connections have no field '{unknown[0]}'.")
    missing = [k for k in cls.SECRET_FIELDS if not data.get(k)]
    if missing:
        raise ConnectionStoreError(f"{origin}: {kind} connection '{name}' needs '{missing[0]}' "
                                   "(write ${env:VAR} to read it from the environment).")
    secrets = {k: str(data[k]) for k in cls.SECRET_FIELDS}
    configs = {k: data[k] for k in cls.FIELDS if k not in cls.SECRET_FIELDS and data.get(k) is not None}
    return cls(name, configs, secrets)
