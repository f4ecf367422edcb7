"""``flowline.Client``: the lifecycle of a flow from Python (test, batch run, details, metrics, report).
Flows run as the CLI in a child process (:mod:`flowline.client.process`); runs are read from the run
store. Runs made here are the CLI's runs (one store).

Each method names the promptflow 1.18.5 ``PFClient`` method it mirrors; heavy modules load on first use,
so ``import flowline`` stays fast.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowline.client.errors import RequestError
from flowline.client.operations import ConnectionOperations, FlowOperations, RunOperations, run_name
from flowline.client.run import Run

# Arguments of promptflow's methods that mean nothing on one machine: accepted with one warning each.
_IGNORED = frozenset({"runtime", "resources", "identity", "compute", "init", "code", "config", "credential",
                      "user_agent", "job_name", "instance_type"})


def _rest(method: str, kwargs: Mapping[str, Any]) -> None:
    """Warn once per promptflow-only argument; ``TypeError`` (as Python words it) for any other."""
    for key in kwargs:
        if key not in _IGNORED:
            raise TypeError(f"Client.{method}() got an unexpected keyword argument '{key}'")
        warnings.warn(f"Client.{method}(): '{key}' has no meaning for local runs and is ignored.", UserWarning,
                      stacklevel=3)


def _mapping(method: str, argument: str, value: Any) -> Mapping[str, Any]:
    """``value`` (``None``: empty) when it is a mapping; ``TypeError`` naming the argument otherwise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"Client.{method}(): {argument} must be a dict, not {type(value).__name__}.")
    return value


def _warn(stderr: str) -> None:
    """The child's warnings (an input the flow does not have...) as Python warnings of the caller's call."""
    from flowline.client import process

    for text in process.warnings_of(stderr):
        warnings.warn(text, UserWarning, stacklevel=3)


def _flow_path(flow: str | Path) -> Path:
    from flowline.flow.build import resolve_flow_path

    path = resolve_flow_path(Path(flow))
    if not path.is_file():
        raise RequestError(f"No flow found at '{flow}': expected a folder with flow.dag.yaml, or the file itself.")
    return path


def _default_name(flow_folder: Path, variant: str | None) -> str:
    """The name ``run create`` would give the run (:func:`flowline.runs.names.default_name`)."""
    from datetime import datetime

    from flowline.flow.variants import VariantError, parse_variant
    from flowline.runs.names import default_name

    try:
        variant_id = parse_variant(variant)[1] if variant else None
    except VariantError:
        variant_id = None  # `run create` refuses the variant, in its own words
    return default_name(flow_folder.name, variant_id, datetime.now())


class Client:
    """Tests, runs and inspects flows; the runs and connections are those of ``flowline run`` and
    ``flowline connection`` (``FLOWLINE_HOME``, else ``~/.flowline``). promptflow's ``PFClient``.

    ``runs``, ``connections`` and ``flows`` hold the operations on each (``Client().runs.list()``...).
    """

    def __init__(self, **kwargs: Any) -> None:
        """A client of this machine's runs and connections (``FLOWLINE_HOME`` as it is when each call is made).
        promptflow's ``PFClient()``: its cloud arguments (``config``, ``credential``, ``user_agent``...) are
        accepted with one ``UserWarning`` each and ignored; any other keyword raises ``TypeError``."""
        _rest("__init__", kwargs)
        self.runs = RunOperations()
        self.connections = ConnectionOperations()
        self.flows = FlowOperations()

    def test(self, flow: str | Path, inputs: Mapping[str, Any] | None = None, node: str | None = None,
             variant: str | None = None, environment_variables: Mapping[str, str] | None = None,
             stream: bool = False, **kwargs: Any) -> Any:
        """Run a flow (or one ``node`` of it) once with ``inputs`` and return its outputs: a dict of the flow's
        outputs (a node's test: the node's output). promptflow's ``PFClient.test``. It runs in a child process
        (:mod:`flowline.client.process`): a tool edited since the last test is loaded afresh; what the tools
        print comes to ``sys.stderr``.

        ``variant`` is ``'${node.variant_id}'``. With ``stream=True``, an output that a streaming node (an LLM
        node, or a Python node returning a generator) gives directly is an iterator over the chunks it produced.

        Raises :class:`FlowValidationError` when the flow (for a node: that node and those it reads) has errors,
        :class:`FlowRunError` when the flow or the node failed or a tool cannot load, ``ValueError`` for a bad
        request (no such node or variant, a missing input)."""
        _rest("test", kwargs)
        import json
        import tempfile

        from flowline.client import process

        given_inputs = _mapping("test", "inputs", inputs)
        given_environment = _mapping("test", "environment_variables", environment_variables)
        path = _flow_path(flow)
        self.flows.check(path, node)
        with tempfile.TemporaryDirectory(prefix="flowline-test-") as folder:
            given = Path(folder) / "inputs.json"
            given.write_text(json.dumps(dict(given_inputs), default=str), encoding="utf-8")
            args = ["flow", "test", "--flow", str(path), "--inputs", str(given)]
            args += ["--node", node] if node else []
            args += ["--variant", variant] if variant else []
            args += [] if stream else ["--no-stream"]
            if given_environment:
                args += ["--environment-variables", *(f"{k}={v}" for k, v in given_environment.items())]
            outcome = process.flow_test(args, sys.stderr)
        _warn(outcome.stderr)
        end = outcome.end
        if end is None or end.get("status") != "Completed":
            raise process.test_error(outcome)
        outputs = end.get("output")
        if not stream or not isinstance(outputs, dict):
            return outputs
        streamed = self.flows.streamed_outputs(path)  # the flow read once, not once per output
        return {name: iter(outcome.tokens[streamed[name]]) if streamed.get(name) in outcome.tokens else value
                for name, value in outputs.items()}

    def run(self, flow: str | Path | None = None, data: str | Path | None = None, run: str | Run | None = None,
            column_mapping: Mapping[str, Any] | None = None, variant: str | None = None,
            connections: Mapping[str, Mapping[str, str]] | None = None,
            environment_variables: Mapping[str, str] | None = None, name: str | None = None,
            display_name: str | None = None, tags: Mapping[str, str] | None = None,
            resume_from: str | Run | None = None,
            stream: bool = False, **kwargs: Any) -> Run:
        """Run a flow over ``data`` (a .jsonl/.json/.csv/.tsv file or folder), or over the lines of another
        ``run`` (an evaluation), and store the run; returns it once every line ran. promptflow's
        ``PFClient.run``. It runs as ``flowline run create`` in a child process.

        ``column_mapping`` maps flow inputs to ``${data.col}``, ``${run.outputs.col}``, ``${run.inputs.col}`` or
        literals; ``connections`` overrides nodes' connections (``{"node": {"connection": "name"}}``);
        ``resume_from`` re-runs only the failed or missing lines of a run. With ``stream=True`` the progress is
        printed as the lines run.

        Raises :class:`FlowValidationError` for a flow with errors, ``ValueError`` when the run cannot start
        otherwise (no flow or data, a bad mapping, a name taken). Lines that fail do not raise: the run says how
        many failed (and a run whose tool cannot load is a Failed run with the reason)."""
        _rest("run", kwargs)
        import json
        import tempfile

        from flowline.client import process

        if flow is None and resume_from is None:
            raise RequestError("Client.run() needs flow (or resume_from).")
        given = {argument: _mapping("run", argument, value) for argument, value in (
            ("column_mapping", column_mapping), ("tags", tags), ("environment_variables", environment_variables),
            ("connections", connections))}
        for node, setting in given["connections"].items():
            _mapping("run", f"connections['{node}']", setting)
        spec: dict[str, Any] = {}
        if flow is not None:
            path = _flow_path(flow)
            self.flows.check(path)
            spec["flow"] = str(path.parent.absolute())
            # Named here, so a run whose process a tool ends (os._exit) can still be returned, Failed.
            name = name or _default_name(path.parent, variant)
        if data is not None:
            spec["data"] = str(Path(data).absolute())
        labels = {"run": run_name(run) if run is not None else None, "variant": variant, "name": name,
                  "display_name": display_name, "column_mapping": dict(given["column_mapping"]) or None,
                  "tags": {str(k): str(v) for k, v in given["tags"].items()} or None,
                  "environment_variables": {k: str(v) for k, v in given["environment_variables"].items()} or None,
                  "connections": {n: dict(v) for n, v in given["connections"].items()} or None}
        spec.update({k: v for k, v in labels.items() if v is not None})
        with tempfile.TemporaryDirectory(prefix="flowline-run-") as folder:
            args: list[str] = []
            if spec.get("flow"):
                run_file = Path(folder) / "run.yml"
                run_file.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML
                args += ["--file", str(run_file)]
            elif set(spec) - {"name", "display_name", "tags"}:
                raise RequestError("Client.run(resume_from=...) takes the resumed run's flow, data and settings; give "
                                 "only a name, display_name and tags, or a flow to run anew.")
            else:
                args += ["--name", name] if name else []
            args += ["--resume-from", run_name(resume_from)] if resume_from is not None else []
            code, record, stderr = process.run_create(args, sys.stdout if stream else None)
        _warn(stderr)
        if code == 130:
            raise KeyboardInterrupt(process.usage_message(stderr))
        if record is None:
            if code != 2 and name is not None and self.runs.exists(name):
                return self.runs.get(name)  # stored as Failed with the reason (a tool ended the process)
            raise RequestError(process.usage_message(stderr))
        if not spec.get("flow") and (display_name or tags):  # a resumed run: labelled once stored
            return self.runs.update(str(record["name"]), display_name=display_name, tags=dict(tags) if tags else None)
        return self.runs.get(str(record["name"]))

    def stream(self, run: str | Run) -> Run:
        """Print a stored run's log (what its tools printed), the error of each failed line and how the run
        went, and return it. promptflow's ``PFClient.stream``. Raises ``ValueError`` for a run that does not
        exist."""
        from flowline.runs.store import RunFolder

        found = self.runs.get(run)
        log = found.output_path / "logs.txt"
        if log.is_file():
            sys.stdout.write(log.read_text(encoding="utf-8", errors="replace"))
        for number, line in sorted(RunFolder(found.output_path).lines().items()):
            error = line.get("error")
            if line.get("status") != "Completed" and isinstance(error, dict):
                where = f" ({error['file']}:{error['line']})" if error.get("file") and error.get("line") else ""
                sys.stdout.write(f"line {number} {line.get('status')}: {error.get('type')}: {error.get('message')}"
                                 f"{where}\n")
        sys.stdout.write(f"{found}\n")
        return found

    def get_details(self, run: str | Run, max_results: int = 100, all_results: bool = False) -> Any:
        """Each line of a run: a pandas ``DataFrame`` (when pandas is installed) with promptflow's columns,
        ``inputs.<name>`` … and ``outputs.<name>`` …, one row per line in line order; without pandas a list
        of dicts with those keys. promptflow's ``PFClient.get_details``: the first ``max_results`` lines (100),
        or all with ``all_results=True``. A failed line's outputs read ``(Failed)``, as promptflow shows them.

        Raises :class:`RunNotFoundError` (a ``ValueError``) for a run that does not exist, ``TypeError`` for a
        ``run`` that is neither a name nor a :class:`Run`."""
        from flowline.client.details import details_rows, frame

        found = self.runs.record(run)
        rows = details_rows(found, None if all_results else max_results)
        return frame(rows)

    def get_metrics(self, run: str | Run) -> dict[str, Any]:
        """What the run's aggregation nodes logged with ``log_metric``: ``{name: value}``. promptflow's
        ``PFClient.get_metrics``. Raises :class:`RunNotFoundError` (a ``ValueError``) for a run that does not
        exist, ``TypeError`` for a ``run`` that is neither a name nor a :class:`Run`."""
        return self.runs.get(run).metrics

    def visualize(self, runs: str | Run | list[str | Run], html_path: str | Path | None = None) -> Path:
        """Write an offline HTML report of the runs side by side (their lines, inputs, outputs and metrics) and
        return its path (default: beside the first run's folder). promptflow's ``PFClient.visualize`` (which
        also opens a browser: here the path is returned, to open or to show in a notebook).

        Raises :class:`RunNotFoundError` (a ``ValueError``) for a run that does not exist, :class:`RequestError`
        (a ``ValueError``) for an empty list, ``TypeError`` for a run that is neither a name nor a :class:`Run`,
        ``OSError`` when the report cannot be written at ``html_path``."""
        from flowline.runs.report import write_report

        chosen = runs if isinstance(runs, list) else [runs]
        if not chosen:
            raise RequestError("Client.visualize() needs at least one run.")
        records = [self.runs.record(r) for r in chosen]
        return write_report(records, Path(html_path) if html_path is not None else None)

    def __repr__(self) -> str:
        from flowline.home import flowline_home

        return f"Client(home={str(flowline_home())!r})"

