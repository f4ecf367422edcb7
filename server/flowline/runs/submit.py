"""`flowline run create`: from a run spec (arguments or a run.yml) to a finished, stored run."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from flowline.engine.errors import FlowRunError, NodeError
from flowline.engine.image_inputs import rebase
from flowline.engine.prepare import RunOptions, environment_text, prepare
from flowline.engine.scheduler import sum_tokens
from flowline.flow.build import resolve_flow_path
from flowline.flow.files import UserFileError, read_user_text
from flowline.flow.model import Flow, Value
from flowline.flow.problems import has_errors
from flowline.flow.validate import validate_file
from flowline.flow.variants import VariantError, parse_variant
from flowline.home import flowline_home
from flowline.runs.batch import run_batch
from flowline.runs.data import DataError, load_rows
from flowline.runs.exits import noted_exits
from flowline.runs.lines import DEFAULT_LINE_TIMEOUT, DEFAULT_WORKERS, Done
from flowline.runs.mapping import Line, MappingError, apply_mapping, complete_mapping, defaulted_columns
from flowline.runs.names import default_name, name_problem
from flowline.runs.on_ray import RaySettings, RayUnreachable
from flowline.runs.progress import Progress
from flowline.runs.store import RunFolder, RunRecord, RunStore, RunStoreError, process_start


class RunSpecError(Exception):
    """A run that cannot start: bad spec, invalid flow, unreadable data, unresolvable mapping."""


class RunInterrupted(Exception):
    """Ctrl-C stopped run ``name`` while its lines ran; it is stored as Canceled with the lines it finished."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass
class RunSpec:
    """Everything `run create` takes (``workers``/``line_timeout`` ``None``: see :func:`batch_settings`;
    ``flow`` ``None``: only with ``resume_from``, see :func:`resumed_spec`; ``worker_processes`` ``None``:
    none, or the resumed run's)."""

    flow: Path | None = None
    data: Path | None = None
    column_mapping: dict[str, Any] = field(default_factory=dict)
    run: str | None = None
    variant: str | None = None
    name: str | None = None
    workers: int | None = None
    resume_from: str | None = None
    line_timeout: float | None = None
    environment_variables: dict[str, str] = field(default_factory=dict)
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    llm_cache: str | None = None
    worker_processes: int | None = None
    display_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    ray: RaySettings | None = None
    """``--engine ray``: the lines run on a Ray cluster (``None``: here)."""


def spec_from_yaml(path: Path) -> RunSpec:
    """A spec from Prompt flow's run YAML (paths relative to the file)."""
    from flowline.flow.parse import YMap, parse, to_python

    try:
        document = parse(read_user_text(path, "run file"))
    except UserFileError as exc:
        raise RunSpecError(str(exc)) from exc
    if document.problems:
        raise RunSpecError(f"{path}:{document.problems[0].span.human()}: {document.problems[0].message}")
    if not isinstance(document.root, YMap):
        raise RunSpecError(f"{path}: a run file must be a mapping with at least 'flow'.")
    data: dict[str, Any] = to_python(document.root)
    if not data.get("flow"):
        raise RunSpecError(f"{path}: 'flow' is required.")
    base = path.parent
    connections = {node: {k: str(v) for k, v in (values or {}).items()}
                   for node, values in (data.get("connections") or {}).items()}
    return RunSpec(
        flow=base / str(data["flow"]),
        data=base / str(data["data"]) if data.get("data") else None,
        column_mapping=dict(data.get("column_mapping") or {}),
        run=data.get("run"),
        variant=data.get("variant"),
        name=data.get("name"),
        environment_variables=_run_file_environment(path, data.get("environment_variables")),
        connections=connections,
        display_name=str(data["display_name"]) if data.get("display_name") else None,
        tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        ray=_ray_settings(path, data.get("engine"), data.get("ray")),
    )


def _ray_settings(path: Path, engine: Any, values: Any) -> RaySettings | None:
    """run.yml's ``engine: ray`` and ``ray: {address, workers, lines_per_task}`` (``None``: the local engine)."""
    if engine in (None, "local"):
        if values:
            raise RunSpecError(f"{path}: 'ray' settings need 'engine: ray'.")
        return None
    if engine != "ray":
        raise RunSpecError(f"{path}: engine is 'local' or 'ray', not {engine!r}.")
    if values is not None and not isinstance(values, dict):
        raise RunSpecError(f"{path}: 'ray' is a mapping of address, workers and lines_per_task.")
    given = dict(values or {})
    unknown = set(given) - {"address", "workers", "lines_per_task"}
    if unknown:
        raise RunSpecError(f"{path}: ray.{sorted(unknown)[0]} is not a setting (address, workers, lines_per_task).")
    for key in ("workers", "lines_per_task"):
        if key in given and (not isinstance(given[key], int) or isinstance(given[key], bool) or given[key] < 1):
            raise RunSpecError(f"{path}: ray.{key} must be a whole number of at least 1.")
    defaults = RaySettings()
    return RaySettings(str(given["address"]) if given.get("address") else None,
                       given.get("workers", defaults.workers), given.get("lines_per_task", defaults.lines_per_task))


def _run_file_environment(path: Path, values: Any) -> dict[str, str]:
    """A run file's ``environment_variables``: strings only, as promptflow 1.18.5's run schema takes
    them (it refuses ``Q: true`` with "Not a valid string."); a flow's own values may be of any type."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise RunSpecError(f"{path}: 'environment_variables' must be a mapping of names to strings.")
    for key, value in values.items():
        if not isinstance(value, str):
            raise RunSpecError(f"{path}: environment_variables.{key} is not a string; write it in quotes.")
    return {str(k): v for k, v in values.items()}


# What `--resume-from` takes from the run it resumes (meta.json keys): spec attribute and its option.
_RESUMED = (("flow", "--flow"), ("data", "--data"), ("column_mapping", "--column-mapping"), ("run", "--run"),
            ("variant", "--variant"), ("environment_variables", "--environment-variables"),
            ("connections", "--connections"))


def _typed(option: str, value: Any) -> str:
    """A setting as it is typed after ``option``: ``s='${data.s}'``, ``node.connection=name``, a path."""
    if option == "--connections":
        return " ".join(f"{node}.{key}={shlex.quote(str(text))}" for node, fields in value.items()
                        for key, text in fields.items())
    if isinstance(value, dict):
        return " ".join(f"{key}={shlex.quote(str(text))}" for key, text in value.items())
    return shlex.quote(str(value))


def _differs(name: str, option: str, given: Any, before: Any) -> str:
    """The refusal of ``option`` given with ``--resume-from name`` and not as the run had it; an
    environment variable's values are not shown (one may be a secret typed on the command line)."""
    fix = "leave it out, or start a new run."
    if option == "--environment-variables":
        names = ", ".join(sorted(k for k in {*given, *before} if given.get(k) != before.get(k)))
        return f"--resume-from {name} runs with that run's environment variables; {option} differs in {names}: {fix}"
    if not before:
        return f"--resume-from {name} runs as that run ran, without {option}; {option} {_typed(option, given)} " \
               f"differs: {fix}"
    return (f"--resume-from {name} runs with that run's {option[2:].replace('-', ' ')} ({_typed(option, before)}); "
            f"{option} {_typed(option, given)} differs: {fix}")


def resumed_spec(spec: RunSpec, store: RunStore) -> RunSpec:
    """``spec`` with what run ``spec.resume_from`` ran with (its meta.json): flow, data, column mapping,
    parent run, variant, environment variables (as given, so secrets stay unresolved), connections, and,
    unless given again, its line timeout, lines at once, worker processes and LLM cache mode.

    A value of the first group given again must be the same (a column mapping: a part of the run's);
    any other raises :class:`RunSpecError` in one line naming the option and both values as typed.
    promptflow 1.18.5 refuses every one of these options with ``--resume-from`` (even an equal one)
    and runs the resumed lines without the run's environment variables; Flowline keeps them
    (ARCHITECTURE §10). The second group may change (a longer ``--line-timeout`` for lines that
    timed out); a value the shell's ``PF_*`` variables would give does not replace the run's."""
    name = str(spec.resume_from)
    try:
        meta = store.folder(store.get(name).name).meta()
    except RunStoreError as exc:
        raise RunSpecError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise RunSpecError(f"Run '{name}' cannot be resumed: its meta.json cannot be read ({exc}).") from exc
    original: dict[str, Any] = {
        "flow": Path(meta["flow"]), "data": Path(meta["data"]) if meta.get("data") else None,
        "column_mapping": dict(meta.get("column_mapping") or {}), "run": meta.get("run"),
        "variant": meta.get("variant"), "environment_variables": dict(meta.get("environment_variables") or {}),
        "connections": dict(meta.get("connections") or {})}
    for key, option in _RESUMED:
        given, before = getattr(spec, key), original[key]
        if key == "flow" and given is not None:
            same = resolve_flow_path(given.absolute()).resolve() == resolve_flow_path(before).resolve()
        elif key == "data" and given is not None:
            same = before is not None and given.resolve() == before.resolve()
        elif key == "column_mapping":
            same = all(before.get(k) == v for k, v in given.items())
        else:
            same = not given or given == before
        if not same:
            raise RunSpecError(_differs(name, option, given, before))
    # Runs stored before these were kept have none: the usual defaults apply (batch_settings).
    processes = meta.get("worker_processes") if spec.worker_processes is None else spec.worker_processes
    settings: dict[str, Any] = {
        "line_timeout": spec.line_timeout or meta.get("line_timeout"), "workers": spec.workers or meta.get("workers"),
        "worker_processes": processes, "llm_cache": spec.llm_cache or meta.get("llm_cache")}
    return replace(spec, **original, **settings)


def _with_connections(flow: Flow, overrides: dict[str, dict[str, str]]) -> Flow:
    """Apply ``--connections node.connection=name`` (and ``node.deployment_name=...``) to the flow."""
    nodes = []
    for node in flow.nodes:
        values = overrides.get(node.name)
        if not values:
            nodes.append(node)
            continue
        inputs = tuple(replace(i, value=Value(values[i.name])) if i.name in values else i for i in node.inputs)
        connection = Value(values["connection"]) if "connection" in values else node.connection
        nodes.append(replace(node, inputs=inputs, connection=connection))
    unknown = [name for name in overrides if flow.node(name) is None]
    if unknown:
        raise RunSpecError(f"--connections names node '{unknown[0]}', which the flow does not have.")
    return replace(flow, nodes=tuple(nodes))


def _sources(spec: RunSpec, store: RunStore) -> dict[str, list[dict[str, Any]]]:
    sources: dict[str, list[dict[str, Any]]] = {}
    try:
        if spec.data is not None:
            sources["data"] = load_rows(spec.data)
    except DataError as exc:
        raise RunSpecError(str(exc)) from exc
    if spec.run:
        try:
            parent = store.folder(store.get(spec.run).name)
        except RunStoreError as exc:
            if spec.resume_from and name_problem(spec.run) is None and not store.exists(spec.run):
                raise RunSpecError(f"Run '{spec.resume_from}' cannot be resumed: it evaluates run '{spec.run}' "
                                   "(its --run), which no longer exists. Start a new run.") from exc
            raise RunSpecError(str(exc)) from exc
        lines = parent.lines()
        sources["run.outputs"] = [{"line_number": n, **(r.get("outputs") or {})}
                                  for n, r in sorted(lines.items()) if r.get("status") == "Completed"]
        sources["run.inputs"] = [{"line_number": n, **(r.get("inputs") or {})} for n, r in sorted(lines.items())]
    if not sources:
        raise RunSpecError("Give the data to run on with --data (or --run for an evaluation of another run).")
    return sources


def _data_folder(data: Path | None) -> Path | None:
    """The folder image paths in a run's data are read from: the data's folder, or the data folder itself."""
    return None if data is None else data if data.is_dir() else data.parent


def _parent_images(flow: Flow, mapping: dict[str, Any], lines: list[Line], parent: RunFolder) -> list[Line]:
    """``lines`` with the relative image paths of values mapped from ``${run.outputs.*}`` or ``${run.inputs.*}``
    made absolute, as promptflow 1.18.5 reads them: the parent run keeps the images of its inputs and outputs
    in its own folder, and an input it could not read as it was given, relative to its data folder (the
    evaluation's own data folder has neither)."""
    data = parent.meta().get("data")
    parent_data = _data_folder(Path(data)) if data else None
    bases = {"outputs": [parent.path], "inputs": [parent.path, *([parent_data] if parent_data else [])]}
    rebased: dict[str, tuple[list[Path], bool]] = {}
    for name, expression in mapping.items():
        source = str(expression).removeprefix("${run.").split(".", 1)[0]
        if str(expression).startswith("${run.") and source in bases:
            declared = flow.input(name)
            rebased[name] = (bases[source], declared is not None and declared.type == "image")
    if not rebased:
        return lines
    return [replace(line, inputs={k: rebase(v, *rebased[k]) if k in rebased else v for k, v in line.inputs.items()})
            for line in lines]


def _shown(name: str, raw: str, given: Mapping[str, str]) -> str:
    """``NAME='value'``; but a value read from a connection (given as ``${conn.field}``) is never
    shown: ``NAME (from ${conn.field})``."""
    source = given.get(name)
    return f"{name}={raw!r}" if source is None or source.strip() == raw else f"{name} (from {source})"


def _setting(name: str, convert: type[int] | type[float], default: float, stream: IO[str],
             given: Mapping[str, str]) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        value = 0
    if value > 0:
        return value
    # promptflow 1.18.5 silently runs with its default; Flowline says so, once, and does the same.
    kind = "a whole number" if convert is int else "a number"
    stream.write(f"flowline: {_shown(name, raw, given)} is not {kind} above 0; using {default:g}.\n")
    return default


def batch_settings(spec: RunSpec, flow: Flow, stream: IO[str]) -> tuple[int, float]:
    """Lines at once and seconds per line for the run: the explicit option (``--workers``,
    ``--line-timeout``), else promptflow's variable, else the default (16 lines, 600 s).

    The variables are read from the environment once the flow's ``environment_variables`` and the
    run's are set, so any of the shell, the flow or the run can give them, as with promptflow:
    ``PF_WORKER_COUNT`` (promptflow's process count; Flowline's lines at once) and
    ``PF_LINE_TIMEOUT_SEC``. A value that is no number above 0 is reported on ``stream`` and the
    default used; a value the flow or the run reads from a connection is named by its reference,
    never shown. ``PF_BATCH_METHOD`` (promptflow's process start method) is accepted and reported
    as unused: Flowline runs lines in threads, or in ``--worker-processes``.
    """
    given = {name: environment_text(value.value) for name, value in flow.environment_variables}
    given.update(spec.environment_variables)
    workers = spec.workers or int(_setting("PF_WORKER_COUNT", int, DEFAULT_WORKERS, stream, given))
    timeout = spec.line_timeout or _setting("PF_LINE_TIMEOUT_SEC", float, DEFAULT_LINE_TIMEOUT, stream, given)
    method = os.environ.get("PF_BATCH_METHOD", "").strip()
    if method:
        stream.write(f"flowline: {_shown('PF_BATCH_METHOD', method, given)} is accepted but not used: Flowline "
                     "runs lines in threads (or in worker processes with --worker-processes).\n")
    return workers, timeout


def _previous(store: RunStore, name: str) -> tuple[RunFolder, dict[int, dict[str, Any]], dict[int, Done]]:
    """The completed lines of the run being resumed, with their node outputs for aggregation."""
    try:
        folder = store.folder(store.get(name).name)
    except RunStoreError as exc:
        raise RunSpecError(str(exc)) from exc
    completed = {n: r for n, r in folder.lines().items() if r.get("status") == "Completed"}
    done = {n: Done(r.get("inputs") or {}, r.get("nodes") or {}) for n, r in completed.items()}
    return folder, completed, done


def _same_lines(resumed: RunRecord, lines: list[Line], previous: dict[int, dict[str, Any]]) -> None:
    """Refuse to resume a run whose data gives other lines now than when it ran (a line more or less,
    or a completed line the data no longer has): its completed lines would be kept beside lines of the
    changed data, one run of two datasets. The contents of a line are not compared."""
    numbers = {line.number for line in lines}
    if len(lines) == resumed.lines_total and numbers.issuperset(previous):
        return
    raise RunSpecError(f"Run '{resumed.name}' ran over {resumed.lines_total} lines, and its data now gives "
                       f"{len(lines)}: the data changed since, and resuming would keep lines of the old data "
                       "beside lines of the new. Start a new run (without --resume-from).")


def create_run(spec: RunSpec, store: RunStore | None = None, progress_stream: IO[str] = sys.stderr) -> RunRecord:
    """Validate, map, run every line and store the run; returns its index record.

    Raises :class:`RunSpecError` when the run cannot start (spec, flow, data, mapping). A tool that
    fails to import is no such error: the run is stored as Failed with the one-line reason
    (:meth:`NodeError.load_failure`) and no line run, so `run list`, `run show` and the run panel keep
    why (promptflow 1.18.5 prints ``PythonLoadError`` and stores no run; see ARCHITECTURE §10).
    Ctrl-C while lines run stores the run as Canceled and raises :class:`RunInterrupted`."""
    if spec.name is not None and (problem := name_problem(spec.name)) is not None:  # before any file is touched
        raise RunSpecError(f"{problem} Choose another --name.")
    # Paths are made absolute first: the run's tools work in the flow folder (`prepare` changes directory).
    store = store or RunStore(flowline_home().absolute())
    if spec.resume_from:
        spec = resumed_spec(spec, store)
    if spec.flow is None:
        raise RunSpecError("run create needs --flow (or -f run.yml, or --resume-from NAME).")
    if spec.ray is not None and importlib.util.find_spec("ray") is None:
        raise RunSpecError("--engine ray needs Ray on this machine: pip install 'flowline[ray]' (and the same Ray "
                           "version as the cluster's).")
    if spec.ray is not None and spec.worker_processes:
        raise RunSpecError("--worker-processes is the local engine's; with --engine ray the lines run in Ray's "
                           "worker processes (--ray-workers).")
    data_path = str(spec.data.absolute()) if spec.data else None  # for meta.json, so a resume finds it anywhere
    flow_path = resolve_flow_path(spec.flow.absolute())
    if not flow_path.is_file():
        raise RunSpecError(f"No flow found at '{spec.flow}'.")
    flow, problems = validate_file(flow_path)
    if has_errors(problems):
        details = "\n".join(p.format(flow_path) for p in problems)
        raise RunSpecError(f"The flow has errors; fix them before running:\n{details}")
    flow = _with_connections(flow, spec.connections)
    try:
        variant = parse_variant(spec.variant) if spec.variant else None
    except VariantError as exc:
        raise RunSpecError(str(exc)) from exc
    sources = _sources(spec, store)
    mapping = complete_mapping(flow, spec.column_mapping)
    defaulted = defaulted_columns(flow, spec.column_mapping, sources.get("data", []))
    if defaulted:
        pairs = " ".join(f"{name}='${{data.{name}}}'" for name in defaulted)
        progress_stream.write(f"note: input(s) {', '.join(defaulted)} keep their default although the data has "
                              "a column of that name (as in Prompt flow); to read the column: "
                              f"--column-mapping {pairs}\n")
    needs_run = [f"{key}={value}" for key, value in mapping.items() if str(value).startswith("${run.")]
    if needs_run and not spec.run:
        raise RunSpecError(f"Column mapping {needs_run[0]} reads the lines of another run: name that run with "
                           "--run NAME (`flowline run list` shows the runs).")
    try:
        lines = apply_mapping(sources, mapping)
    except MappingError as exc:
        raise RunSpecError(str(exc)) from exc
    if spec.run:
        lines = _parent_images(flow, mapping, lines, store.folder(store.get(spec.run).name))

    previous_lines: dict[int, dict[str, Any]] = {}
    previous_done: dict[int, Done] = {}
    if spec.resume_from:
        _, previous_lines, previous_done = _previous(store, spec.resume_from)
        _same_lines(store.get(spec.resume_from), lines, previous_lines)
        lines = [line for line in lines if line.number not in previous_lines]

    name = spec.name or default_name(flow.directory.resolve().name, variant[1] if variant else None, datetime.now())
    if store.exists(name):
        raise RunSpecError(f"A run named '{name}' already exists; choose another --name.")
    data_folder = _data_folder(spec.data.absolute() if spec.data else None)  # image paths in the data are read here
    options = RunOptions(llm_cache=spec.llm_cache, environment=spec.environment_variables, data_folder=data_folder)
    load_failure: str | None = None
    try:
        exe = prepare(flow, variant, options=options)
    except (FlowRunError, VariantError) as exc:
        raise RunSpecError(str(exc)) from exc
    except NodeError as exc:  # a tool that cannot load: a run of the user's code that failed, so it is stored
        load_failure = exc.load_failure()
    workers, line_timeout = batch_settings(spec, flow, progress_stream)

    folder = store.folder(name)
    total = len(lines) + len(previous_lines)
    created = datetime.now().isoformat(timespec="microseconds")  # `run list` orders runs of one second too
    # The environment variables are kept as given: a `${connection.field}` stays a reference, never its secret.
    meta = {"name": name, "flow": str(flow.directory.resolve()),
            "data": data_path,
            "run": spec.run, "variant": spec.variant, "column_mapping": mapping, "resume_from": spec.resume_from,
            "environment_variables": spec.environment_variables, "connections": spec.connections,
            "workers": workers, "worker_processes": spec.worker_processes or 0, "line_timeout": line_timeout,
            "llm_cache": spec.llm_cache, "created": created, "engine": "ray" if spec.ray else "local"}
    folder.write_meta(meta)
    folder.snapshot(flow.directory)
    for record in previous_lines.values():
        folder.add_line(record)
    folder.flush()  # the copied lines are the run's before any new line runs, even if it is killed

    pid = os.getpid()
    started_at = process_start(pid)  # with the pid: `run list` can tell when this process is gone

    def index(status: str, completed: int, failed: int, metrics: dict[str, Any], duration: float | None,
              reason: str | None = None) -> RunRecord:
        record = RunRecord(name, str(flow.directory.resolve()), str(spec.data or ""), status, created, duration,
                           total, completed, failed, metrics, spec.run, spec.variant, folder.path, reason=reason,
                           pid=pid, process_start=started_at, display_name=spec.display_name, tags=dict(spec.tags))
        store.put(record)
        return record

    if load_failure is not None:
        folder.add_log(load_failure)
        folder.close()
        return index("Failed", len(previous_lines), 0, {}, 0, load_failure)
    index("Running", len(previous_lines), 0, {}, None)
    started = time.perf_counter()
    progress = Progress(progress_stream, total, done=len(previous_lines))

    def ended(code: int, line: int | None) -> None:
        """A tool is ending this process (``os._exit``): store the run as Failed, saying so, first."""
        during = f"during line {line}" if line is not None else "while the run went on"
        reason = (f"a tool ended the process with os._exit({code}) {during}; the lines finished before are kept. "
                  "Lines share the process of `run create`: run such tools with --worker-processes, where only "
                  f"their line fails. Resume with `flowline run create --resume-from {name}`.")
        folder.add_log(reason)
        folder.flush()
        lines_now = folder.lines()
        completed = sum(r.get("status") == "Completed" for r in lines_now.values())
        index("Failed", completed, len(lines_now) - completed, {}, round((time.perf_counter() - started) * 1000, 3),
              reason)
        progress_stream.write(f"\nrun '{name}': Failed: {reason}\n")
        progress_stream.flush()

    try:
        with noted_exits(ended):
            outcome = run_batch(exe, lines, folder, name, workers=workers, line_timeout=line_timeout,
                                previous=previous_done, on_line=progress.update, processes=spec.worker_processes or 0,
                                options=options, ray=spec.ray)
    except KeyboardInterrupt:
        folder.close()  # first: the lines are counted from the file
        lines_now = folder.lines()
        completed = sum(r.get("status") == "Completed" for r in lines_now.values())
        progress.finish()
        index("Canceled", completed, len(lines_now) - completed, {}, round((time.perf_counter() - started) * 1000))
        raise RunInterrupted(name) from None
    except RayUnreachable as exc:  # no line ran: the run is stored as Failed, saying why
        folder.add_log(str(exc))
        folder.close()
        progress_stream.write("\n")
        return index("Failed", len(previous_lines), 0, {}, round((time.perf_counter() - started) * 1000, 3), str(exc))
    progress.finish()
    folder.write_metrics(outcome.metrics)
    # The run's tokens (with the resumed run's lines it kept), for the SDK's system metrics.
    kept = [r.get("tokens") for r in previous_lines.values()]
    folder.write_meta({**meta, "tokens": sum_tokens([outcome.tokens, *kept])})
    if outcome.aggregation_error is not None:
        folder.add_log(f"aggregation failed: {outcome.aggregation_error.type}: {outcome.aggregation_error.message}")
    folder.close()
    completed = outcome.completed + len(previous_lines)
    # Completed even when lines or the aggregation failed, as promptflow 1.18.5 marks such runs: the
    # counts say how lines went, and an aggregation error is the run's reason (`run show`, logs.txt).
    error = outcome.aggregation_error
    aggregation = f"the aggregation failed with {error.type}: {error.message}" if error is not None else None
    return index("Completed", completed, outcome.failed, outcome.metrics,
                 round((time.perf_counter() - started) * 1000, 3), aggregation)

