"""``flowline flow build``: a flow as a Docker build context (see ``serve/build.py``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowline.cli.args import EXIT_OK, EXIT_USAGE, Parser, UsageError, flow_file


def cmd_flow_build(args: argparse.Namespace) -> int:
    """``flowline flow build``: write the build context; stdout: ``{output, image, environment_variables}``
    as JSON; stderr: the notes and how to build and run the image."""
    if args.format != "docker":
        # promptflow's other format bundles its own runtime into an executable; Flowline has no such thing.
        raise UsageError(f"--format {args.format} is not supported; use --format docker.")
    from flowline.cli.serve import write_error
    from flowline.serve.build import BuildError, build_docker

    try:
        result = build_docker(flow_file(args.source), Path(args.output), force=args.force)
    except BuildError as exc:
        write_error(str(exc))  # a validation listing as it is, the error line once prefixed
        return EXIT_USAGE
    for warning in result.warnings:
        sys.stderr.write(f"flowline: warning: {warning}\n")
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    flags = "".join(f" -e {v.name}=..." for v in result.variables)
    sys.stderr.write(f"Wrote the build context to {result.output}. Build and run it with:\n"
                     f"  docker build -t {result.image} {result.output}\n"
                     f"  docker run --rm -p 8080:8080{flags} {result.image}\n"
                     f"(see {result.output / 'README.md'})\n")
    sys.stdout.write(json.dumps({"output": str(result.output), "image": result.image,
                                 "environment_variables": [v.name for v in result.variables]}, indent=2) + "\n")
    return EXIT_OK


def add_parser(flow_cmds: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline flow build`` under ``flowline flow``."""
    build = flow_cmds.add_parser("build", help="write a Docker build context that serves the flow")
    build.add_argument("--source", required=True, help="flow folder, or the flow file itself")
    build.add_argument("--output", "-o", required=True, help="folder to write (new or empty; see --force)")
    build.add_argument("--format", "-f", choices=("docker", "executable"), default="docker",
                       help="docker (the only one Flowline makes)")
    build.add_argument("--force", action="store_true",
                       help="replace what an earlier build wrote into a folder that is not empty")
    build.set_defaults(handler=cmd_flow_build)
