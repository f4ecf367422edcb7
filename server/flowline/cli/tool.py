"""``flowline tool list [--flow DIR]``: the tools a flow can use, as JSON, in the shape of ``pf tool list``.

stdout: ``{"package": {tool id: metadata}, "code": {file: metadata}}``; ``package`` holds the built-in
promptflow-tools tools and every tool an installed package registers through the ``package_tools``
entry points (their packages are imported to ask); ``code`` holds the ``@tool`` files the flow's python
nodes use, read with ``ast`` (empty without ``--flow``). A package whose tools could not be listed is
reported on stderr and left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flowline.cli.args import EXIT_OK, Parser, UsageError

# Annotation text → the type names promptflow's metadata uses (anything else is shown as written).
_TYPES = {"str": "string", "int": "int", "float": "double", "bool": "bool", "list": "list", "dict": "object"}


def code_tools(flow_dir: Path) -> dict[str, Any]:
    """``{source path: metadata}`` of the python nodes' tool files of the flow in ``flow_dir``.
    Raises :class:`UsageError` when the folder has no readable flow.dag.yaml."""
    from flowline.flow.build import load_flow_text
    from flowline.flow.files import read_disk, resolve_source
    from flowline.flow.signatures import read_tool_file

    path = flow_dir / "flow.dag.yaml" if flow_dir.is_dir() else flow_dir
    text = read_disk(path)
    if text is None:
        raise UsageError(f"--flow: {path} is not a readable flow.dag.yaml.")
    flow, _ = load_flow_text(text, path)
    found: dict[str, Any] = {}
    for node in flow.nodes:
        source = node.source
        if node.type != "python" or source is None or source.type != "code" or not source.path \
                or source.path in found:
            continue
        tool_file = read_tool_file(resolve_source(flow, source.path))
        if tool_file is None or len(tool_file.tools) != 1:
            continue
        tool = tool_file.tools[0]
        inputs: dict[str, Any] = {}
        for param in tool.parameters:
            spec: dict[str, Any] = {"type": [_TYPES.get(param.annotation or "", param.annotation or "object")]}
            if not param.required:
                spec["default"] = param.default_text
            inputs[param.name] = spec
        found[source.path] = {"type": "python", "function": tool.name, "inputs": inputs, "source": source.path,
                              **({"class_name": tool.class_name} if tool.class_name else {}),
                              **({"description": tool.docstring} if tool.docstring else {})}
    return found


def cmd_tool_list(args: argparse.Namespace) -> int:
    """``flowline tool list``: package tools (and the flow's code tools) as one JSON object."""
    from flowline.flow.package_tools import installed_tools

    catalog = installed_tools()
    for problem in catalog.errors:
        sys.stderr.write(f"flowline: {problem}\n")
    code = code_tools(Path(args.flow)) if args.flow else {}
    sys.stdout.write(json.dumps({"package": catalog.to_json(), "code": code}, indent=2) + "\n")
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline tool`` and its commands."""
    tool = groups.add_parser("tool", help="list the tools flows can use")
    commands = tool.add_subparsers(dest="command", parser_class=Parser)
    listing = commands.add_parser("list", help="package tools (built-in and installed) and a flow's code tools, "
                                               "as JSON")
    listing.add_argument("--flow", help="also list the code tools of this flow folder")
    listing.set_defaults(handler=cmd_tool_list)
