"""``flowline flow test|validate|init``: run a flow once, list its problems, create one from a template."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowline.cli import build as build_cli
from flowline.cli import serve as serve_cli
from flowline.cli.args import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, UsageError, environment, flow_file, parse_inputs

if TYPE_CHECKING:
    from flowline.chat.roles import ChatRoles
    from flowline.engine.errors import NodeError
    from flowline.flow.model import Flow


def _print_problems(problems: list[Any], path: Path, stream: Any) -> None:
    for problem in problems:
        stream.write(problem.format(path) + "\n")


def cmd_flow_test(args: argparse.Namespace) -> int:
    """``flowline flow test``: run a flow or one node once and print its outputs as JSON."""
    from flowline.console import ConsoleSink
    from flowline.engine.errors import FlowRunError, NodeError, NodeSetupError
    from flowline.engine.events import Emitter, JsonlSink, to_jsonable
    from flowline.engine.prepare import RunOptions
    from flowline.engine.run import flow_test
    from flowline.flow.problems import Severity, has_errors
    from flowline.flow.scope import problems_for_node
    from flowline.flow.validate import validate_file
    from flowline.flow.variants import VariantError, parse_variant

    if args.interactive and (args.node or args.events):
        raise UsageError(f"--interactive cannot be used with {'--node' if args.node else '--events'}: a chat "
                         "runs the whole flow, turn by turn, and shows its answers.")
    path = flow_file(args.flow)
    given = parse_inputs(args.inputs)
    types = _connection_types()
    flow, problems = validate_file(path, connections=frozenset(types), connection_types=types)
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
    if not args.node:
        _warn_unknown_inputs(flow, given)
    if args.interactive:
        from flowline.chat.history import text_refusal
        from flowline.chat.roles import chat_roles

        roles = chat_roles(flow)
        refusal = roles if isinstance(roles, str) else text_refusal(roles)
        if isinstance(roles, str) or refusal is not None:  # no chat flow, or none the terminal can chat with
            sys.stderr.write(f"Cannot chat with flow '{flow.directory.resolve().name}': {refusal}.\n")
            return EXIT_USAGE
        return _chat(flow, roles, given, args)
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
        options = RunOptions(stream=not args.no_stream, environment=environment(args.environment_variables),
                             llm_cache=args.llm_cache or os.environ.get("FLOWLINE_LLM_CACHE") or None)
        result = flow_test(flow, given, emitter, node=args.node, variant=variant, stray_output=sys.stderr,
                           options=options)
    except (FlowRunError, VariantError, NodeSetupError) as exc:
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


def _warn_unknown_inputs(flow: Flow, given: dict[str, Any]) -> None:
    """One warning line per ``--inputs`` key that names no input of the flow (its value reaches no node)."""
    for name in given:
        if flow.input(name) is None:
            names = ", ".join(i.name for i in flow.inputs) or "none"
            sys.stderr.write(f"flowline: warning: --inputs {name}: the flow has no input '{name}' (its inputs: "
                             f"{names}); ignored.\n")


def _chat(flow: Flow, roles: ChatRoles, given: dict[str, Any], args: argparse.Namespace) -> int:
    """``flow test --interactive``: load the tools once, then chat turn by turn (:mod:`flowline.chat.terminal`).

    Killed at the prompt (SIGTERM, SIGHUP, SIGQUIT) the chat ends with exit code 128 + the signal's number,
    the terminal's settings as they were when it started."""
    from flowline.chat.session import open_session
    from flowline.chat.terminal import StdConsole, chat
    from flowline.engine.capture import routed_output
    from flowline.engine.errors import FlowRunError, NodeError, NodeSetupError
    from flowline.engine.image_files import flow_test_files, writing_images
    from flowline.engine.prepare import RunOptions
    from flowline.flow.variants import VariantError, parse_variant

    if roles.input.name in given:
        sys.stderr.write(f"flowline: warning: --inputs {roles.input.name}: ignored; the chat input "
                         f"'{roles.input.name}' is what you type at the prompt.\n")
    console = StdConsole(sys.stdout, sys.stderr, sys.stdin)
    # Tools' prints become their node's lines (on stderr, or dropped once their turn is over). Unlike `flow test`,
    # what threads a tool started itself print stays on stdout: input() edits lines with readline only while
    # sys.stdout is the terminal's own stream.
    with writing_images(flow_test_files(flow.directory, flow.message_format)), routed_output():
        try:
            variant = parse_variant(args.variant) if args.variant else None
            # A tool's own KeyboardInterrupt fails its turn (as in `flow serve`): Ctrl-C is blocked in the tools'
            # threads and cancels the turn through the event loop, so it never reaches a tool as that exception.
            options = RunOptions(stream=not args.no_stream, environment=environment(args.environment_variables),
                                 llm_cache=args.llm_cache or os.environ.get("FLOWLINE_LLM_CACHE") or None,
                                 contain_interrupts=True)
            session = open_session(flow, roles, given, variant, options)
        except (FlowRunError, VariantError, NodeSetupError) as exc:
            raise UsageError(str(exc)) from exc
        except NodeError as exc:
            return _tool_not_loaded(exc)
        try:
            return chat(session, console)
        finally:
            session.close()


def _tool_not_loaded(exc: NodeError) -> int:
    """Report a :class:`NodeError` raised while loading the tools (before any line ran); exit code 1."""
    sys.stderr.write(exc.load_failure() + "\n")
    return EXIT_FAILED


def cmd_flow_validate(args: argparse.Namespace) -> int:
    """``flowline flow validate``: list every problem of a flow with its position."""
    from flowline.flow.problems import has_errors
    from flowline.flow.validate import validate_file

    path = flow_file(args.source)
    types = _connection_types()
    _, problems = validate_file(path, with_schema=True, connections=frozenset(types), connection_types=types)
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


def _connection_types() -> dict[str, str]:
    from flowline.connections.store import ConnectionStore

    return ConnectionStore().types()


def cmd_flow_init(args: argparse.Namespace) -> int:
    """``flowline flow init``: create a flow folder from a template; its LLM nodes use a stored
    connection (``--json``: what was made, as a JSON object on stdout)."""
    from flowline.templates import create_flow, missing_connection_note

    try:
        created = create_flow(Path(args.flow), args.type, sorted(_connection_types()))
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


def add_parser(groups: argparse._SubParsersAction[Parser]) -> None:
    """Register ``flowline flow`` and its commands."""
    flow = groups.add_parser("flow", help="test, validate and create flows")
    flow_cmds = flow.add_subparsers(dest="command", parser_class=Parser)

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
    test.add_argument("--interactive", action="store_true",
                      help="chat with a chat flow in the terminal: each line typed is the chat input, the answer "
                           "streams, the history grows turn by turn (/history, /clear, /exit; Ctrl-C stops a turn)")
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

    build_cli.add_parser(flow_cmds)
    serve_cli.add_parser(flow_cmds)
