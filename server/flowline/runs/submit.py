"""`flowline run create`: from a run spec (arguments or a run.yml) to a finished, stored run."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from flowline.engine.errors import FlowRunError
from flowline.engine.prepare import RunOptions, prepare
from flowline.flow.build import resolve_flow_path
from flowline.flow.model import Flow, Value
from flowline.flow.problems import has_errors
from flowline.flow.validate import validate_file
from flowline.flow.variants import VariantError, parse_variant
from flowline.runs.batch import DEFAULT_WORKERS, Done, WorkerLost, run_batch
from flowline.runs.data import DataError, load_rows
from flowline.runs.mapping import MappingError, apply_mapping, complete_mapping
from flowline.runs.progress import Progress
from flowline.runs.store import RunFolder, RunRecord, RunStore, RunStoreError, process_start


class RunSpecError(Exception):
    """A run that cannot start: bad spec, invalid flow, unreadable data, unresolvable mapping."""


@dataclass
class RunSpec:
    """Everything `run create` takes."""

    flow: Path
    data: Path | None = None
    column_mapping: dict[str, Any] = field(default_factory=dict)
    run: str | None = None
    variant: str | None = None
    name: str | None = None
    workers: int = DEFAULT_WORKERS
    resume_from: str | None = None
    line_timeout: float | None = None
    environment_variables: dict[str, str] = field(default_factory=dict)
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    llm_cache: str | None = None
    worker_processes: int = 0


def spec_from_yaml(path: Path) -> RunSpec:
    """A spec from Prompt flow's run YAML (paths relative to the file)."""
    from flowline.flow.parse import YMap, parse, to_python

    try:
        document = parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunSpecError(f"Cannot read run file '{path}': {exc.strerror}.") from exc
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
        environment_variables={k: v if isinstance(v, str) else json.dumps(v)
                               for k, v in (data.get("environment_variables") or {}).items()},
        connections=connections,
    )


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
            raise RunSpecError(str(exc)) from exc
        lines = parent.lines()
        sources["run.outputs"] = [{"line_number": n, **(r.get("outputs") or {})}
                                  for n, r in sorted(lines.items()) if r.get("status") == "Completed"]
        sources["run.inputs"] = [{"line_number": n, **(r.get("inputs") or {})} for n, r in sorted(lines.items())]
    if not sources:
        raise RunSpecError("Give the data to run on with --data (or --run for an evaluation of another run).")
    return sources


def _previous(store: RunStore, name: str) -> tuple[RunFolder, dict[int, dict[str, Any]], dict[int, Done]]:
    """The completed lines of the run being resumed, with their node outputs for aggregation."""
    try:
        folder = store.folder(store.get(name).name)
    except RunStoreError as exc:
        raise RunSpecError(str(exc)) from exc
    completed = {n: r for n, r in folder.lines().items() if r.get("status") == "Completed"}
    done = {n: Done(r.get("inputs") or {}, r.get("nodes") or {}) for n, r in completed.items()}
    return folder, completed, done


def create_run(spec: RunSpec, store: RunStore | None = None, progress_stream: IO[str] = sys.stderr) -> RunRecord:
    """Validate, map, run every line and store the run; returns its index record."""
    store = store or RunStore()
    flow_path = resolve_flow_path(spec.flow)
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
    try:
        lines = apply_mapping(sources, mapping)
    except MappingError as exc:
        raise RunSpecError(str(exc)) from exc

    previous_lines: dict[int, dict[str, Any]] = {}
    previous_done: dict[int, Done] = {}
    if spec.resume_from:
        _, previous_lines, previous_done = _previous(store, spec.resume_from)
        lines = [line for line in lines if line.number not in previous_lines]

    stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
    name = spec.name or f"{flow.directory.name}_{variant[1] + '_' if variant else ''}{stamp}"
    if store.exists(name):
        raise RunSpecError(f"A run named '{name}' already exists; choose another --name.")
    os.environ.update(spec.environment_variables)
    options = RunOptions(llm_cache=spec.llm_cache)
    try:
        exe = prepare(flow, variant, options=options)
    except (FlowRunError, VariantError) as exc:
        raise RunSpecError(str(exc)) from exc

    folder = store.folder(name)
    total = len(lines) + len(previous_lines)
    created = datetime.now().isoformat(timespec="seconds")
    meta = {"name": name, "flow": str(flow.directory.resolve()), "data": str(spec.data) if spec.data else None,
            "run": spec.run, "variant": spec.variant, "column_mapping": mapping, "resume_from": spec.resume_from,
            "workers": spec.workers, "worker_processes": spec.worker_processes, "line_timeout": spec.line_timeout,
            "created": created}
    folder.write_meta(meta)
    folder.snapshot(flow.directory)
    for record in previous_lines.values():
        folder.add_line(record)

    pid = os.getpid()
    started_at = process_start(pid)  # with the pid: `run list` can tell when this process is gone

    def index(status: str, completed: int, failed: int, metrics: dict[str, Any], duration: float | None,
              reason: str | None = None) -> RunRecord:
        record = RunRecord(name, str(flow.directory.resolve()), str(spec.data or ""), status, created, duration,
                           total, completed, failed, metrics, spec.run, spec.variant, folder.path, reason=reason,
                           pid=pid, process_start=started_at)
        store.put(record)
        return record

    index("Running", len(previous_lines), 0, {}, None)
    started = time.perf_counter()
    progress = Progress(progress_stream, total, done=len(previous_lines))
    try:
        outcome = run_batch(exe, lines, folder, name, workers=spec.workers, line_timeout=spec.line_timeout,
                            previous=previous_done, on_line=progress.update, processes=spec.worker_processes,
                            options=options)
    except WorkerLost as exc:
        lines_now = folder.lines()
        completed = sum(r.get("status") == "Completed" for r in lines_now.values())
        reason = f"{exc} Resume with `flowline run create --resume-from {name}`."
        folder.add_log(reason)
        folder.close()
        progress.finish()
        return index("Failed", completed, len(lines_now) - completed, {}, round((time.perf_counter() - started) * 1000),
                     reason)
    except KeyboardInterrupt:
        lines_now = folder.lines()
        completed = sum(r.get("status") == "Completed" for r in lines_now.values())
        folder.close()
        progress.finish()
        index("Canceled", completed, len(lines_now) - completed, {}, round((time.perf_counter() - started) * 1000))
        raise
    progress.finish()
    folder.write_metrics(outcome.metrics)
    if outcome.aggregation_error is not None:
        folder.add_log(f"aggregation failed: {outcome.aggregation_error.type}: {outcome.aggregation_error.message}")
    folder.close()
    completed = outcome.completed + len(previous_lines)
    status = "Failed" if outcome.aggregation_error is not None or (total and completed == 0) else "Completed"
    return index(status, completed, outcome.failed, outcome.metrics, round((time.perf_counter() - started) * 1000, 3))

