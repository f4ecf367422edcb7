"""The ``flowline`` command tree (shaped like ``pf``): stdout carries data, stderr is for people.

Exit codes: 0 success, 1 a run that failed, 2 an invalid flow or bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowline.engine.errors import NodeError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or inputs: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 as well; keep one clear line
        self.print_usage(sys.stderr)
        raise UsageError(message)


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    """``key=value`` arguments as a dict; anything else is a usage error naming the option."""
    values = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option}: '{item}' is not of the form key=value.")
        values[key] = value
    return values


def _environment(items: list[str] | None) -> dict[str, str]:
    """``--environment-variables``: ``KEY=VALUE`` items and ``.env`` files (``KEY=VALUE`` lines; blank
    lines, ``#`` comments and ``export`` ignored, one pair of quotes around a value removed), later
    items winning, as promptflow 1.18.5 takes them. A ``${connection.field}`` value is resolved when
    the run starts (:func:`flowline.engine.prepare.run_environment`)."""
    values: dict[str, str] = {}
    for item in items or []:
        if "=" in item:
            values.update(_pairs([item], "--environment-variables"))
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


def _parse_inputs(items: list[str] | None) -> dict[str, Any]:
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
    return dict(_pairs(items, "--inputs"))


def _flow_file(location: str) -> Path:
    from flowline.flow.build import resolve_flow_path

    path = resolve_flow_path(Path(location))
    if not path.is_file():
        raise UsageError(f"No flow found at '{location}': expected a folder with flow.dag.yaml, or the file itself.")
    return path


def _print_problems(problems: list[Any], path: Path, stream: Any) -> None:
    for problem in problems:
        stream.write(problem.format(path) + "\n")


def cmd_flow_test(args: argparse.Namespace) -> int:
    """``flowline flow test``: run a flow or one node once and print its outputs as JSON."""
    from flowline.console import ConsoleSink
    from flowline.engine.errors import FlowRunError, NodeError
    from flowline.engine.events import Emitter, JsonlSink, to_jsonable
    from flowline.engine.prepare import RunOptions
    from flowline.engine.run import flow_test
    from flowline.flow.problems import Severity, has_errors
    from flowline.flow.scope import problems_for_node
    from flowline.flow.validate import validate_file
    from flowline.flow.variants import VariantError, parse_variant

    path = _flow_file(args.flow)
    given = _parse_inputs(args.inputs)
    flow, problems = validate_file(path, connections=_connection_names())
    if args.node:
        problems = problems_for_node(flow, problems, args.node)
    if problems:
        _print_problems(problems, path, sys.stderr)
    if has_errors(problems):
        errors = sum(p.severity is Severity.ERROR for p in problems)
        what = (f"Node '{args.node}' cannot run: it and the nodes it depends on have" if args.node
                else "The flow has")
        sys.stderr.write(f"{what} {errors} error(s) (listed above); fix them before running "
                         "(see `flowline flow validate`).\n")
        return EXIT_USAGE
    emitter = Emitter([ConsoleSink(sys.stderr, color=sys.stderr.isatty())])
    events_file = None
    if args.events == "-":
        emitter.add(JsonlSink(sys.stdout))
    elif args.events:
        try:
            events_file = open(args.events, "w", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--events: cannot write '{args.events}': {exc.strerror}.") from exc
        emitter.add(JsonlSink(events_file))
    try:
        variant = parse_variant(args.variant) if args.variant else None
        options = RunOptions(stream=not args.no_stream, environment=_environment(args.environment_variables),
                             llm_cache=args.llm_cache or os.environ.get("FLOWLINE_LLM_CACHE") or None)
        result = flow_test(flow, given, emitter, node=args.node, variant=variant, stray_output=sys.stderr,
                           options=options)
    except (FlowRunError, VariantError) as exc:
        raise UsageError(str(exc)) from exc
    except NodeError as exc:
        return _tool_not_loaded(exc)
    finally:
        if events_file is not None:
            events_file.close()
    if result.status != "Completed":
        return EXIT_FAILED
    if result.aggregation_error is not None:  # promptflow 1.18.5 logs it and still prints the outputs, exit 0
        error = result.aggregation_error
        sys.stderr.write(f"Aggregation node '{result.aggregation_node}' failed: {error.type}: {error.message}; "
                         "the line completed, its outputs follow.\n")
    if args.events != "-":
        sys.stdout.write(json.dumps(to_jsonable(result.outputs), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _tool_not_loaded(exc: NodeError) -> int:
    """Report a :class:`NodeError` raised while loading the tools (before any line ran); exit code 1."""
    sys.stderr.write(exc.load_failure() + "\n")
    return EXIT_FAILED


def cmd_flow_validate(args: argparse.Namespace) -> int:
    """``flowline flow validate``: list every problem of a flow with its position."""
    from flowline.flow.problems import has_errors
    from flowline.flow.validate import validate_file

    path = _flow_file(args.source)
    _, problems = validate_file(path, with_schema=True, connections=_connection_names())
    if args.json:
        rows = [{"file": str(p.file or path), "line": p.span.start_line + 1, "column": p.span.start_col + 1,
                 "end_line": p.span.end_line + 1, "end_column": p.span.end_col + 1,
                 "severity": p.severity.value, "code": p.code, "message": p.message} for p in problems]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        _print_problems(problems, path, sys.stdout)
        if not problems:
            sys.stderr.write(f"{path}: no problems found.\n")
    return EXIT_FAILED if has_errors(problems) else EXIT_OK


def _connection_names() -> frozenset[str]:
    from flowline.connections.store import ConnectionStore

    return frozenset(ConnectionStore().names())


def cmd_connection_create(args: argparse.Namespace) -> int:
    """``flowline connection create``: store a connection from its YAML file."""
    from flowline.connections.files import connection_from_yaml
    from flowline.connections.store import ConnectionStore, ConnectionStoreError

    try:
        connection = connection_from_yaml(Path(args.file), _pairs(args.set, "--set"))
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


def cmd_run_create(args: argparse.Namespace) -> int:
    """``flowline run create``: run a flow over a dataset (or evaluate another run) and store the run
    (a tool that cannot load stores it as Failed with that reason, exit 1)."""
    from flowline.runs.submit import RunSpec, RunSpecError, create_run, spec_from_yaml

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
        if args.worker_processes is not None:
            if args.worker_processes < 0:
                raise UsageError("--worker-processes must be 0 (lines run in this process) or more.")
            spec.worker_processes = args.worker_processes
        spec.column_mapping.update(_pairs(args.column_mapping, "--column-mapping"))
        if args.environment_variables:  # replaces run.yml's whole set, as with promptflow 1.18.5 (observed)
            spec.environment_variables = _environment(args.environment_variables)
        for key, value in _pairs(args.connections, "--connections").items():
            node, sep, field = key.partition(".")
            if not sep:
                raise UsageError(f"--connections: '{key}' must be <node>.connection=<name> or <node>.<input>=...")
            spec.connections.setdefault(node, {})[field] = value
        record = create_run(spec)
    except RunSpecError as exc:
        raise UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        sys.stderr.write("flowline: run interrupted; completed lines are kept. Continue it with "
                         "`flowline run create ... --resume-from <name>` (see `flowline run list`).\n")
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


def cmd_local_llm(args: argparse.Namespace) -> int:
    """``flowline local-llm start|stop|status``: the local SmolLM2 server and its `local` connection.

    ``start`` exits 1 when the server does not answer a chat completion (the reason and the last lines
    of its log on stderr); ``status`` prints the report on stdout and exits 0 when the server runs,
    3 when it does not (as ``pg_ctl status`` does)."""
    from flowline.local_llm import control

    if args.action == "status":
        report = control.status()
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n" if args.json
                         else "\n".join(report.lines()) + "\n")
        return EXIT_OK if report.running else 3
    try:
        model = Path(args.model).resolve() if args.model else None
        message = control.start(args.port, model) if args.action == "start" else control.stop()
    except control.LocalModelError as exc:
        sys.stderr.write(f"flowline: error: {exc}\n")
        return EXIT_FAILED
    sys.stderr.write(message + "\n")
    return EXIT_OK


def _port(text: str) -> int:
    """A TCP port number from the command line (1-65535)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port: give a number from 1 to 65535")
    return port


def cmd_lsp(args: argparse.Namespace) -> int:
    """``flowline lsp``: the language server on stdin/stdout."""
    from flowline.lsp.server import main as serve

    serve(args.log_level)
    return EXIT_OK


def cmd_flow_init(args: argparse.Namespace) -> int:
    """``flowline flow init``: create a flow folder from a template; its LLM nodes use a stored
    connection (``--json``: what was made, as a JSON object on stdout)."""
    from flowline.templates import create_flow, missing_connection_note

    try:
        created = create_flow(Path(args.flow), args.type, sorted(_connection_names()))
    except FileExistsError as exc:
        raise UsageError(str(exc)) from exc
    for path in created.files:
        sys.stderr.write(f"created {path}\n")
    if created.connection is not None:
        sys.stderr.write(f"Its LLM node uses connection '{created.connection}'.\n" if created.connection_stored
                         else missing_connection_note(created.connection) + "\n")
    sys.stderr.write(f"Run it with: flowline flow test --flow {args.flow}\n")
    if args.json:
        sys.stdout.write(json.dumps({"flow": str(Path(args.flow).resolve()), "files": [str(p) for p in created.files],
                                     "connection": created.connection,
                                     "connection_stored": created.connection_stored}, indent=2) + "\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = _Parser(prog="flowline", description="Author, run and validate Prompt-flow-style flows.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    groups = parser.add_subparsers(dest="group", parser_class=_Parser)

    flow = groups.add_parser("flow", help="test, validate and create flows")
    flow_cmds = flow.add_subparsers(dest="command", parser_class=_Parser)

    test = flow_cmds.add_parser("test", help="run a flow (or one node) once and print its outputs as JSON")
    test.add_argument("--flow", required=True, help="flow folder (or its flow.dag.yaml)")
    # Repeated multi-value options add up (`--inputs a=1 --inputs b=2`), as in promptflow's CLI.
    test.add_argument("--inputs", nargs="+", action="extend", metavar="K=V|FILE",
                      help="inputs as name=value pairs, or a JSON file")
    test.add_argument("--node", help="run only this node; give its inputs (or <dep>.output=...) with --inputs")
    test.add_argument("--variant", help="use a node variant, written '${node_name.variant_id}'")
    test.add_argument("--events", metavar="FILE|-", help="also write run events as JSON lines (- for stdout)")
    test.add_argument("--no-stream", action="store_true",
                      help="do not stream LLM tokens or generator items to stderr (one request each, usage always "
                           "reported)")
    test.add_argument("--llm-cache", choices=("record", "replay"),
                      help="record LLM calls into .flowline/llm-cache, or replay them without network "
                           "(default: $FLOWLINE_LLM_CACHE)")
    test.add_argument("--environment-variables", nargs="+", action="extend", metavar="K=V|FILE.env",
                      help="set for the run, over the flow's environment_variables; K='${conn.field}' reads a "
                           "connection")
    test.set_defaults(handler=cmd_flow_test)

    validate = flow_cmds.add_parser("validate", help="report problems as file:line:col: severity: message")
    validate.add_argument("--source", required=True, help="flow folder (or its flow.dag.yaml)")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON array")
    validate.set_defaults(handler=cmd_flow_validate)

    init = flow_cmds.add_parser("init", help="create a new flow folder from a template")
    init.add_argument("--flow", required=True, help="folder to create")
    init.add_argument("--type", choices=("standard", "chat", "evaluation"), default="standard")
    init.add_argument("--json", action="store_true",
                      help="print {flow, files, connection, connection_stored} as JSON (connection: what its "
                           "LLM nodes use, null when it has none)")
    init.set_defaults(handler=cmd_flow_init)

    connection = groups.add_parser("connection", help="create, list, show and delete connections")
    conn_cmds = connection.add_subparsers(dest="command", parser_class=_Parser)
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

    run = groups.add_parser("run", help="batch runs: create, inspect, compare and delete")
    run_cmds = run.add_subparsers(dest="command", parser_class=_Parser)
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
                                 "variant, connections and environment variables")
    create_run.add_argument("--line-timeout", type=float,
                            help="seconds a line may take before it fails (default: PF_LINE_TIMEOUT_SEC, else 600)")
    create_run.add_argument("--environment-variables", nargs="+", action="extend", metavar="K=V|FILE.env",
                            help="set for the run, over the flow's environment_variables (and all of run.yml's); "
                                 "K='${conn.field}' reads a connection")
    create_run.add_argument("--connections", nargs="+", action="extend", metavar="NODE.connection=NAME",
                            help="override a node's connection (or deployment_name) for this run")
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

    lsp = groups.add_parser("lsp", help="run the language server on stdin/stdout (its log goes to stderr)")
    lsp.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning",
                     help="debug also logs each validation pass and its time (default: warning)")
    lsp.set_defaults(handler=cmd_lsp)

    local = groups.add_parser("local-llm", help="start, stop or inspect the local model (SmolLM2 via llama.cpp)")
    local.add_argument("action", choices=("start", "stop", "status"))
    local.add_argument("--port", type=_port, default=8181, help="port on 127.0.0.1 (default 8181)")
    local.add_argument("--model", help="a GGUF file to serve instead of SmolLM2-135M (start)")
    local.add_argument("--json", action="store_true", help="the status as a JSON object (status)")
    local.set_defaults(handler=cmd_local_llm)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from flowline import __version__

            sys.stdout.write(f"flowline {__version__}\n")
            return EXIT_OK
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(handler(args))
    except UsageError as exc:
        sys.stderr.write(f"flowline: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("flowline: interrupted\n")
        return 130
