"""The run store: an SQLite index of runs and a folder per run under ``FLOWLINE_HOME``.

A run folder (``FLOWLINE_HOME/.runs/<name>/``) is written as lines finish, so a run that dies
keeps every completed line:

    meta.json                     what was run: flow, data, mapping, variant, parent run
    inputs.jsonl                  {"line_number", ...flow inputs} per line
    flow_outputs/output.jsonl     {"line_number", ...outputs} per completed line
    flow_artifacts/lines.jsonl    per-line record: status, inputs, outputs, error, timing, tokens
    node_artifacts/<node>.jsonl   per-node, per-line record
    metrics.json                  what log_metric recorded
    logs.txt                      captured output of the tools
    images/                       images of the lines' inputs and outputs, which the records name as
                                  {"data:image/png;path": "images/<hash>.png"} (engine/image_files.py)
    snapshot/                     a copy of the flow folder as it ran
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flowline.home import flowline_home
from flowline.runs.names import name_problem

_COLUMNS = ("name", "flow", "data", "status", "created", "duration_ms", "lines_total", "lines_completed",
            "lines_failed", "metrics", "parent_run", "variant", "folder", "reason")
# The process running the run, for telling a Running run from one whose process is gone (not printed).
_PROCESS = ("pid", "process_start")
# What the user calls and files a run under (the SDK's display_name, tags, archive); not printed by the CLI.
_LABELS = ("display_name", "tags", "archived")
_STORED = _COLUMNS + _PROCESS + _LABELS
_SCHEMA = f"CREATE TABLE IF NOT EXISTS runs ({', '.join(c + ' TEXT' for c in _STORED)}, PRIMARY KEY (name))"


class RunStoreError(Exception):
    """A run that does not exist or cannot be written, or a name no run may have."""


def _checked(name: str) -> str:
    """``name``, when a run may have it (:func:`name_problem`); checked before anything is read or
    written, so a path-like name never reaches the disk."""
    problem = name_problem(name)
    if problem is not None:
        raise RunStoreError(problem)
    return name


@dataclass(frozen=True)
class RunRecord:
    """One row of the index."""

    name: str
    flow: str
    data: str
    status: str
    created: str
    duration_ms: float | None
    lines_total: int
    lines_completed: int
    lines_failed: int
    metrics: dict[str, Any]
    parent_run: str | None
    variant: str | None
    folder: Path
    reason: str | None = None
    """Why the run ended as it did, when its lines do not say (its process stopped)."""
    pid: int | None = None
    """The process running (or that ran) the run."""
    process_start: str | None = None
    """When that process started (:func:`process_start`), so a later process with its pid is not taken for it."""
    display_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (what `run show` and `run list` print)."""
        data = {k: getattr(self, k) for k in _COLUMNS}
        data["folder"] = str(self.folder)
        return data


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        name=row["name"], flow=row["flow"], data=row["data"], status=row["status"], created=row["created"],
        duration_ms=float(row["duration_ms"]) if row["duration_ms"] is not None else None,
        lines_total=int(row["lines_total"] or 0), lines_completed=int(row["lines_completed"] or 0),
        lines_failed=int(row["lines_failed"] or 0), metrics=json.loads(row["metrics"] or "{}"),
        parent_run=row["parent_run"], variant=row["variant"], folder=Path(row["folder"]), reason=row["reason"],
        pid=int(row["pid"]) if row["pid"] is not None else None, process_start=row["process_start"],
        display_name=row["display_name"], tags=json.loads(row["tags"] or "{}"), archived=row["archived"] == "1")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as text that tells it from a later process given the same pid (on
    Linux the boot's id and the start tick from /proc, elsewhere ``ps``'s start time); None when no such
    process runs. A zombie (ended, not yet collected by its parent) does not run. Where there is neither
    /proc nor ``ps`` every pid answers ``"?"``: a run is then never taken for stopped."""
    if Path("/proc/self/stat").exists():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace").rsplit(")", 1)[1].split()
            state, ticks = fields[0], fields[19]  # proc(5)'s fields 3 and 22 (the split starts at 3)
        except (OSError, IndexError):
            return None
        return None if state in ("Z", "X") else f"{_boot_id()}:{ticks}"
    ps = shutil.which("ps")
    if ps is None:
        return "?"
    shown = subprocess.run([ps, "-o", "stat=,lstart=", "-p", str(pid)], capture_output=True, text=True)
    state, _, started = shown.stdout.strip().partition(" ")
    return None if shown.returncode != 0 or not state or state.startswith("Z") else started.strip()


def _add_columns(db: sqlite3.Connection) -> None:
    """Add the columns an index made by an earlier version lacks (its rows keep NULL there)."""
    have = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
    for column in _STORED:
        if column not in have:
            try:
                db.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")
            except sqlite3.OperationalError as exc:  # another process added it in the meantime
                if "duplicate column" not in str(exc):
                    raise


class RunStore:
    """Index and folders of runs."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or flowline_home()
        self.root = self.home / ".runs"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.home.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.home / "runs.sqlite", timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute(_SCHEMA)
            _add_columns(connection)
            yield connection
            connection.commit()
        finally:
            connection.close()

    def exists(self, name: str) -> bool:
        """True when a run of that name is indexed."""
        _checked(name)
        with self._db() as db:
            return db.execute("SELECT 1 FROM runs WHERE name = ?", (name,)).fetchone() is not None

    def put(self, record: RunRecord) -> None:
        """Insert or replace a run's index row."""
        values = {**record.to_json(), "pid": record.pid, "process_start": record.process_start,
                  "display_name": record.display_name, "tags": json.dumps(record.tags),
                  "archived": "1" if record.archived else "0"}
        values["metrics"] = json.dumps(record.metrics, default=str)
        with self._db() as db:
            db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(_STORED)}) VALUES "
                       f"({', '.join('?' for _ in _STORED)})", [values[c] for c in _STORED])

    def get(self, name: str) -> RunRecord:
        """The index row of a run (see :meth:`_settled` for a Running run whose process is gone)."""
        _checked(name)
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise RunStoreError(f"Run '{name}' does not exist; `flowline run list` shows the runs.")
        return self._settled(_record(row))

    def list(self, max_results: int | None = None, archived: bool | None = False) -> list[RunRecord]:
        """Runs, newest first, at most ``max_results`` (``None``: all; promptflow's ``runs.list(max_results=0)`` is
        empty, so is this) (see :meth:`_settled` for a Running run whose process is gone): those not archived
        (``archived=False``), only the archived ones (``True``) or all (``None``)."""
        where = "" if archived is None else f" WHERE COALESCE(archived, '0') = '{1 if archived else 0}'"
        query = f"SELECT * FROM runs{where} ORDER BY created DESC"
        with self._db() as db:
            rows = db.execute(query + (f" LIMIT {max(int(max_results), 0)}" if max_results is not None else "")
                              ).fetchall()
        return [self._settled(_record(r)) for r in rows]

    def label(self, name: str, *, display_name: str | None = None, tags: dict[str, str] | None = None,
              archived: bool | None = None) -> RunRecord:
        """Set a run's display name, replace its tags (as promptflow 1.18.5's ``runs.update`` does), archive or
        restore it; what is ``None`` stays. Raises :class:`RunStoreError` for a run that does not exist."""
        record = self.get(name)
        hidden = archived if archived is not None else record.archived
        with self._db() as db:
            db.execute("UPDATE runs SET display_name = ?, tags = ?, archived = ? WHERE name = ?",
                       (display_name if display_name is not None else record.display_name,
                        json.dumps(tags if tags is not None else record.tags), "1" if hidden else "0", name))
        return self.get(name)

    def _settled(self, record: RunRecord) -> RunRecord:
        """``record``; but a Running run whose process is gone (killed, or the machine restarted) is Failed,
        with its recorded lines counted and the reason.

        That is stored: no process can finish the run any more. Resuming it still works, as
        ``--resume-from`` reads only the run's lines. A row without a pid and its start (written by an
        earlier version) stays as it is: nothing tells whether its process runs.
        """
        if record.status != "Running" or record.pid is None or record.process_start is None \
                or process_start(record.pid) == record.process_start:
            return record
        lines = RunFolder(record.folder).lines()
        completed = sum(r.get("status") == "Completed" for r in lines.values())
        reason = (f"the process running it stopped (killed, or the machine restarted) after {len(lines)} of "
                  f"{record.lines_total} lines; resume with `flowline run create --resume-from {record.name}`")
        with self._db() as db:
            # Only while it is Running: the process may have stored how the run ended since it was read.
            db.execute("UPDATE runs SET status = 'Failed', lines_completed = ?, lines_failed = ?, reason = ? "
                       "WHERE name = ? AND status = 'Running'",
                       (completed, len(lines) - completed, reason, record.name))
            row = db.execute("SELECT * FROM runs WHERE name = ?", (record.name,)).fetchone()
        return record if row is None else _record(row)

    def delete(self, name: str) -> None:
        """Remove a run's row and its folder (only ever a folder directly under ``.runs``)."""
        record = self.get(name)
        with self._db() as db:
            db.execute("DELETE FROM runs WHERE name = ?", (name,))
        if record.folder.name == name and record.folder.parent.resolve() == self.root.resolve():
            shutil.rmtree(record.folder, ignore_errors=True)

    def folder(self, name: str) -> RunFolder:
        """The folder of a run (created when written to)."""
        return RunFolder(self.root / _checked(name))


@dataclass
class RunFolder:
    """Appends a run's records as they happen (one writer per run; thread-safe)."""

    path: Path
    _files: dict[str, IO[str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _append(self, relative: str, record: dict[str, Any]) -> None:
        self._write(relative, json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def _write(self, relative: str, line: str) -> None:
        """Append a line (buffered until :meth:`flush`; the batch flushes after every scheduler step)."""
        with self._lock:
            handle = self._files.get(relative)
            if handle is None:
                target = self.path / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = self._files[relative] = target.open("a", encoding="utf-8")
            handle.write(line)

    def flush(self) -> None:
        """Hand everything written so far to the OS (it then survives the process being killed)."""
        with self._lock:
            for handle in self._files.values():
                handle.flush()

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Write meta.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")

    def meta(self) -> dict[str, Any]:
        """Read meta.json."""
        data: dict[str, Any] = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        return data

    def snapshot(self, flow_dir: Path) -> None:
        """Copy the flow folder (without its local state) into snapshot/."""
        ignore = shutil.ignore_patterns(".flowline", ".runs", "__pycache__", ".git", "node_modules")
        shutil.copytree(flow_dir, self.path / "snapshot", ignore=ignore, dirs_exist_ok=True)

    def add_line(self, record: dict[str, Any]) -> None:
        """Record a finished line; its record in flow_artifacts/lines.jsonl (with every node's output)
        is what resuming reads."""
        number = record["line_number"]
        self._append("flow_artifacts/lines.jsonl", record)
        self._append("inputs.jsonl", {"line_number": number, **(record.get("inputs") or {})})
        if record["status"] == "Completed":
            self._append("flow_outputs/output.jsonl", {"line_number": number, **(record.get("outputs") or {})})

    def add_node(self, node: str, record: dict[str, Any]) -> None:
        """Record one node's run on one line."""
        self._append(f"node_artifacts/{node}.jsonl", record)

    def add_log(self, text: str) -> None:
        """Append to logs.txt."""
        self._write("logs.txt", text + "\n")

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write metrics.json."""
        (self.path / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")

    def close(self) -> None:
        """Flush and close the open files."""
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()

    def lines(self) -> dict[int, dict[str, Any]]:
        """The last record of each line (a re-run line replaces its earlier record)."""
        return {int(r["line_number"]): r for r in _read_jsonl(self.path / "flow_artifacts" / "lines.jsonl")}

    def metrics(self) -> dict[str, Any]:
        """metrics.json, or an empty dict."""
        path = self.path / "metrics.json"
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return data


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut short when a run was killed
    return rows
