"""The connections of a build context: each connection the flow uses, as stored on this machine, written
as a connection file with every secret replaced by an environment-variable placeholder.

``svc`` (custom, secret ``token``) becomes ``secrets: {token: ${env:SVC_TOKEN}}``; an ``open_ai``
connection ``my-ai`` becomes ``api_key: ${env:MY_AI_API_KEY}``: the connection's name and the field,
upper-cased, every other character than a letter or digit made ``_`` (as ``pf flow build`` names
them). A secret stored as a placeholder already keeps its variable. Configs are kept as stored.
The container's entry script stores the files with ``flowline connection create --file``; the store
keeps a placeholder as text and reads the variable when a run loads the connection
(``connections/store.py``), so neither the image nor the container's store ever holds a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowline.connections.model import Connection
from flowline.connections.store import ENV_PLACEHOLDER, ConnectionStore, ConnectionStoreError
from flowline.flow.model import Flow
from flowline.flow.validate import validate


class PlaceholderError(Exception):
    """A connection that cannot be written for the image; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Variable:
    """An environment variable the container needs: the placeholder's name and what it fills."""

    name: str
    connection: str
    field: str


@dataclass(frozen=True)
class ConnectionFile:
    """One connection file of the context: its name (``<connection>.yaml``) and its mapping."""

    file_name: str
    data: dict[str, Any]


def connections_used(flow: Flow) -> list[str]:
    """The names of the connections a flow uses, sorted: those validation checks against the store (LLM
    nodes, tool inputs typed as connections, package tools, ``${conn.field}`` environment variables, every
    variant), found by validating against an empty store, where each of them is an unknown connection."""
    problems = validate(flow, connections=frozenset(), connection_types={})
    return sorted({p.subject for p in problems if p.code == "unknown-connection" and p.subject})


def variable_name(connection: str, field: str) -> str:
    """``<CONNECTION>_<FIELD>`` upper-cased, other characters than letters and digits made ``_``; a leading
    ``_`` when it would start with a digit, which no shell takes."""
    name = re.sub(r"[^A-Z0-9]", "_", f"{connection}_{field}".upper())
    return f"_{name}" if name[0].isdigit() else name


def _placeholder(value: Any, connection: str, field: str, variables: list[Variable]) -> str:
    """The placeholder for one field; a name made here must be new (a placeholder written by the user may
    be shared on purpose)."""
    existing = ENV_PLACEHOLDER.match(value) if isinstance(value, str) else None
    name = existing.group(1) if existing else variable_name(connection, field)
    other = next((v for v in variables if v.name == name), None)
    if other is not None and existing is None:
        raise PlaceholderError(f"Connections '{other.connection}' ({other.field}) and '{connection}' ({field}) "
                               f"would both read environment variable {name}; rename one of them and build again.")
    if other is None:
        variables.append(Variable(name, connection, field))
    return f"${{env:{name}}}"


def connection_file(connection: Connection, variables: list[Variable]) -> ConnectionFile:
    """The connection in Prompt flow's file format with placeholders for its secrets; appends the
    variables it reads (its configs' ``${env:NAME}`` values included) to ``variables``, those of the
    connections before it. Raises :class:`PlaceholderError` (see :func:`placeholder_files`)."""
    name = connection.name
    secrets = {k: _placeholder(v, name, k, variables) for k, v in connection.secrets.items()}
    for key, value in connection.configs.items():
        if isinstance(value, str) and ENV_PLACEHOLDER.match(value):
            _placeholder(value, name, key, variables)
    data: dict[str, Any] = {"name": name, "type": connection.TYPE}
    if connection.TYPE == "custom":
        data["configs"] = dict(connection.configs)
        data["secrets"] = secrets
    else:
        data.update(connection.configs)
        data.update(secrets)
    return ConnectionFile(f"{name}.yaml", data)


def placeholder_files(names: Iterable[str], store: ConnectionStore) -> tuple[list[ConnectionFile], list[Variable]]:
    """The files of the connections ``names`` and the variables they read (each once, in file order).

    Raises :class:`PlaceholderError` for a connection the store lacks or cannot read, and for two fields
    whose made-up variables would have the same name.
    """
    files: list[ConnectionFile] = []
    variables: list[Variable] = []
    for name in names:
        try:
            connection = store.load(name, resolve_env=False)
        except ConnectionStoreError as exc:
            raise PlaceholderError(f"The flow uses connection '{name}': {exc}") from exc
        files.append(connection_file(connection, variables))
    return files, variables
