"""``flowline connection create|list|show|delete``: the stored connections (secrets masked on output)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowline.cli.args import EXIT_OK, Parser, UsageError, pairs


def cmd_connection_create(args: argparse.Namespace) -> int:
    """``flowline connection create``: store a connection from its YAML file."""
    from flowline.connections.files import connection_from_yaml
    from flowline.connections.store import ConnectionStore, ConnectionStoreError

    try:
        connection = connection_from_yaml(Path(args.file), pairs(args.set, "--set"))
        if args.name:
            connection.name = args.name
        ConnectionStore().save(connection)
    except ConnectionStoreError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(json.dumps(connection.masked(), indent=2) + "\n")
    return EXIT_OK


def cmd_connection_list(args: argparse.Namespace) -> int:
    """``flowline connection list``: every stored connection, secrets masked."""
    from flowline.connections.store import ConnectionStore, ConnectionStoreError

    store = ConnectionStore()
    try:
        rows = [store.load(name, resolve_env=False).masked() for name in store.names()]
    except ConnectionStoreError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    return EXIT_OK


def cmd_connection_show(args: argparse.Namespace) -> int:
    """``flowline connection show``: one connection, secrets masked."""
    from flowline.connections.store import ConnectionStore, ConnectionStoreError

    try:
        connection = ConnectionStore().load(args.name, resolve_env=False)
    except ConnectionStoreError as exc:
        raise UsageError(str(exc)) from exc
    sys.stdout.write(json.dumps(connection.masked(), indent=2) + "\n")
    return EXIT_OK


def cmd_connection_delete(args: argparse.Namespace) -> int:
    """``flowline connection delete``: remove a connection."""
    from flowline.connections.store import ConnectionStore, ConnectionStoreError

    try:
        ConnectionStore().delete(args.name)
    except ConnectionStoreError as exc:
        raise UsageError(str(exc)) from exc
    sys.stderr.write(f"deleted connection '{args.name}'\n")
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline connection`` and its commands."""
    connection = groups.add_parser("connection", help="create, list, show and delete connections")
    conn_cmds = connection.add_subparsers(dest="command", parser_class=Parser)
    create = conn_cmds.add_parser("create", help="store a connection from a YAML file")
    create.add_argument("--file", "-f", required=True, help="connection YAML (Prompt flow's format)")
    create.add_argument("--set", nargs="+", action="extend", metavar="K=V",
                        help="override fields, e.g. api_key=... or secrets.k=...")
    create.add_argument("--name", help="store under this name instead of the file's")
    create.set_defaults(handler=cmd_connection_create)
    conn_cmds.add_parser("list", help="list connections (secrets masked)").set_defaults(handler=cmd_connection_list)
    for verb, handler, text in (("show", cmd_connection_show, "show one connection (secrets masked)"),
                                ("delete", cmd_connection_delete, "delete a connection")):
        sub = conn_cmds.add_parser(verb, help=text)
        sub.add_argument("--name", "-n", required=True)
        sub.set_defaults(handler=handler)
