"""``flowline run create|list|show|show-details|show-metrics|visualize|delete``: batch runs and the run
store."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowline.cli.args import EXIT_FAILED, EXIT_OK, Parser, UsageError, environment, pairs

if TYPE_CHECKING:
    from flowline.runs.on_ray import RaySettings


def _ray_settings(args: argparse.Namespace, given: RaySettings | None) -> RaySettings:
    """``--engine ray`` and its options over run.yml's ``ray:`` settings; ``FLOWLINE_RAY_ADDRESS`` when no
    address is given."""
    from flowline.runs.on_ray import RaySettings

    if given is None and args.engine != "ray":
        raise UsageError("--ray-address, --ray-workers and --lines-per-task need --engine ray (or engine: ray in "
                         "the run file).")
    for option, value in (("--ray-workers", args.ray_workers), ("--lines-per-task", args.lines_per_task)):
        if value is not None and value < 1:
            raise UsageError(f"{option} must be at least 1.")
    base = given or RaySettings()
    return RaySettings(args.ray_address or base.address or os.environ.get("FLOWLINE_RAY_ADDRESS") or None,
                       args.ray_workers or base.workers, args.lines_per_task or base.lines_per_task)


def cmd_run_create(args: argparse.Namespace) -> int:
    """``flowline run create``: run a flow over a dataset (or evaluate another run) and store the run
    (a tool that cannot load stores it as Failed with that reason, exit 1)."""
    from flowline.runs.submit import RunInterrupted, RunSpec, RunSpecError, create_run, spec_from_yaml

    try:
        if args.file:
            spec = spec_from_yaml(Path(args.file))
        elif args.flow or args.resume_from:  # a resumed run's flow is the run's own (see resumed_spec)
            spec = RunSpec(flow=Path(args.flow) if args.flow else None)
        else:
            raise UsageError("run create needs --flow (or -f run.yml, or --resume-from NAME).")
        overrides = {
            "data": Path(args.data) if args.data else None, "run": args.run, "variant": args.variant,
            "name": args.name, "resume_from": args.resume_from, "line_timeout": args.line_timeout,
            "llm_cache": args.llm_cache or os.environ.get("FLOWLINE_LLM_CACHE") or None,
        }
        for key, value in overrides.items():
            if value is not None:
                setattr(spec, key, value)
        if args.line_timeout is not None and not args.line_timeout > 0:
            raise UsageError("--line-timeout must be a number of seconds above 0.")
        if args.workers is not None:
            if args.workers < 1:
                raise UsageError("--workers must be at least 1.")
            spec.workers = args.workers
        ray_options = args.ray_address or args.ray_workers is not None or args.lines_per_task is not None
        if args.engine == "local":
            if ray_options:
                raise UsageError("--ray-address, --ray-workers and --lines-per-task need --engine ray.")
            spec.ray = None
        elif args.engine == "ray" or spec.ray is not None or ray_options:
            spec.ray = _ray_settings(args, spec.ray)
        if args.worker_processes is not None:
            if args.worker_processes < 0:
                raise UsageError("--worker-processes must be 0 (lines run in this process) or more.")
            spec.worker_processes = args.worker_processes
        spec.column_mapping.update(pairs(args.column_mapping, "--column-mapping"))
        if args.environment_variables:  # replaces run.yml's whole set, as with promptflow 1.18.5 (observed)
            spec.environment_variables = environment(args.environment_variables)
        for key, value in pairs(args.connections, "--connections").items():
            node, sep, field = key.partition(".")
            if not sep:
                raise UsageError(f"--connections: '{key}' must be <node>.connection=<name> or <node>.<input>=...")
            spec.connections.setdefault(node, {})[field] = value
        record = create_run(spec)
    except RunSpecError as exc:
        raise UsageError(str(exc)) from exc
    except RunInterrupted as exc:
        sys.stderr.write(f"flowline: run '{exc.name}' interrupted; completed lines are kept. Continue it with "
                         f"`flowline run create --resume-from {exc.name}`.\n")
        return 130
    except KeyboardInterrupt:  # before any line ran
        sys.stderr.write("flowline: run interrupted before its lines ran; `flowline run list` shows whether it "
                         "was stored.\n")
        return 130
    sys.stdout.write(json.dumps(record.to_json(), indent=2) + "\n")
    sys.stderr.write(f"run '{record.name}': {record.status}, {record.lines_completed} completed, "
                     f"{record.lines_failed} failed of {record.lines_total} lines"
                     + (f": {record.reason}\n" if record.reason else "\n"))
    return EXIT_OK if record.status == "Completed" else EXIT_FAILED


def _run_store() -> Any:
    from flowline.runs.store import RunStore

    return RunStore()


def _get_run(name: str) -> Any:
    from flowline.runs.store import RunStoreError

    try:
        return _run_store().get(name)
    except RunStoreError as exc:
        raise UsageError(str(exc)) from exc


def cmd_run_list(args: argparse.Namespace) -> int:
    """``flowline run list``: stored runs, newest first."""
    rows = [r.to_json() for r in _run_store().list(args.max_results)]
    sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    return EXIT_OK


def cmd_run_show(args: argparse.Namespace) -> int:
    """``flowline run show``: one run's record."""
    sys.stdout.write(json.dumps(_get_run(args.name).to_json(), indent=2) + "\n")
    return EXIT_OK


def cmd_run_show_details(args: argparse.Namespace) -> int:
    """``flowline run show-details``: per-line inputs, outputs, status and errors."""
    from flowline.runs.report import details, details_table

    record = _get_run(args.name)
    if record.reason:
        sys.stderr.write(f"run '{record.name}': {record.status}: {record.reason}\n")
    rows = details(record, args.max_results)
    sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n" if args.json else details_table(rows))
    return EXIT_OK


def cmd_run_show_metrics(args: argparse.Namespace) -> int:
    """``flowline run show-metrics``: the run's metrics as one JSON object."""
    from flowline.runs.store import RunFolder

    record = _get_run(args.name)
    sys.stdout.write(json.dumps(RunFolder(record.folder).metrics(), indent=2) + "\n")
    return EXIT_OK


def cmd_run_visualize(args: argparse.Namespace) -> int:
    """``flowline run visualize``: an offline HTML report comparing runs; prints its path."""
    from flowline.runs.report import write_report

    records = [_get_run(name.strip()) for name in args.names.split(",") if name.strip()]
    path = write_report(records, Path(args.html_path) if args.html_path else None)
    sys.stdout.write(str(path) + "\n")
    return EXIT_OK


def cmd_run_delete(args: argparse.Namespace) -> int:
    """``flowline run delete``: remove a run and its folder."""
    _get_run(args.name)
    _run_store().delete(args.name)
    sys.stderr.write(f"deleted run '{args.name}'\n")
    return EXIT_OK


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline run`` and its commands."""
    run = groups.add_parser("run", help="batch runs: create, inspect, compare and delete")
    run_cmds = run.add_subparsers(dest="command", parser_class=Parser)
    create_run = run_cmds.add_parser("create", help="run a flow over data (or evaluate a run) and store it")
    create_run.add_argument("--file", "-f", help="a run YAML (Prompt flow's format)")
    create_run.add_argument("--flow", help="flow folder (or its flow.dag.yaml)")
    create_run.add_argument("--data", help="data file (.jsonl, .json, .csv, .tsv) or a folder of them")
    create_run.add_argument("--column-mapping", nargs="+", action="extend", metavar="INPUT=${data.col}",
                            help="map flow inputs to ${data.col}, ${run.outputs.col}, ${run.inputs.col} or literals")
    create_run.add_argument("--run", help="a run whose lines this run evaluates (matched by line_number)")
    create_run.add_argument("--variant", help="use a node variant, written '${node_name.variant_id}'")
    create_run.add_argument("--name", help="name of the run (default: flow name and time)")
    create_run.add_argument("--workers", type=int, help="lines in flight at once (default: PF_WORKER_COUNT, else 16)")
    create_run.add_argument("--worker-processes", type=int,
                            help="run lines in this many worker processes (for CPU-bound tools; default: none)")
    create_run.add_argument("--resume-from", metavar="NAME",
                            help="re-run only the failed or missing lines of this run, with its flow, data, mapping, "
                                 "variant, connections and environment variables (and, unless given, its line "
                                 "timeout, workers and worker processes)")
    create_run.add_argument("--line-timeout", type=float,
                            help="seconds a line may take before it fails (default: PF_LINE_TIMEOUT_SEC, else 600)")
    create_run.add_argument("--environment-variables", nargs="+", action="extend", metavar="K=V|FILE.env",
                            help="set for the run, over the flow's environment_variables (and all of run.yml's); "
                                 "K='${conn.field}' reads a connection")
    create_run.add_argument("--connections", nargs="+", action="extend", metavar="NODE.connection=NAME",
                            help="override a node's connection (or deployment_name) for this run")
    create_run.add_argument("--engine", choices=("local", "ray"),
                            help="where the lines run: here (local, the default) or on a Ray cluster (ray)")
    create_run.add_argument("--ray-address", metavar="ADDR",
                            help="the Ray cluster (default: FLOWLINE_RAY_ADDRESS, else a Ray started for the run)")
    create_run.add_argument("--ray-workers", type=int, metavar="N", help="Ray worker processes (default 2)")
    create_run.add_argument("--lines-per-task", type=int, metavar="K", help="lines in each Ray task (default 50)")
    create_run.add_argument("--llm-cache", choices=("record", "replay"), help="record or replay LLM calls")
    create_run.set_defaults(handler=cmd_run_create)
    listing = run_cmds.add_parser("list", help="stored runs, newest first")
    listing.add_argument("--max-results", "-r", type=int, default=50)
    listing.set_defaults(handler=cmd_run_list)
    for verb, handler, text in (("show", cmd_run_show, "one run's record"),
                                ("show-details", cmd_run_show_details, "per-line inputs, outputs and errors"),
                                ("show-metrics", cmd_run_show_metrics, "the run's metrics as JSON"),
                                ("delete", cmd_run_delete, "delete a run")):
        sub_run = run_cmds.add_parser(verb, help=text)
        sub_run.add_argument("--name", "-n", required=True)
        if verb == "show-details":
            sub_run.add_argument("--json", action="store_true", help="a JSON array instead of a table")
            sub_run.add_argument("--max-results", "-r", type=int)
        sub_run.set_defaults(handler=handler)
    visualize = run_cmds.add_parser("visualize", help="write an offline HTML report of runs side by side")
    visualize.add_argument("--names", "-n", required=True, help="comma-separated run names")
    visualize.add_argument("--html-path", help="where to write the report (default: in FLOWLINE_HOME)")
    visualize.set_defaults(handler=cmd_run_visualize)
