"""The tasks of a run on Ray (:mod:`flowline.runs.on_ray`): their lines, how their records reach the run folder
in line order (a task run again as single lines comes back in parts), and the records of lines that could not
run."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowline.engine.events import now_iso, to_jsonable
from flowline.engine.scheduler import FAILED
from flowline.runs.lines import CRASH_ERROR, BatchOutcome, MemoryRecords
from flowline.runs.mapping import Line
from flowline.runs.store import RunFolder


@dataclass
class Task:
    """A task's lines and its place in line order. A task whose worker died is run again as single lines, each
    ``alone`` on a worker (so a line that ends its process is told from those that shared the process with it);
    ``deaths`` counts the times a worker died running it alone."""

    index: int
    lines: list[Line]
    alone: bool = False
    deaths: int = 0


@dataclass
class InOrder:
    """Writes tasks' records to the run folder in line order, as earlier tasks finish."""

    folder: RunFolder
    outcome: BatchOutcome
    next: int = 0
    waiting: dict[int, tuple[MemoryRecords, BatchOutcome]] = field(default_factory=dict)
    missing: dict[int, int] = field(default_factory=dict)  # lines still to come of a task run as single lines

    def split(self, index: int, lines: int) -> None:
        """Task ``index`` comes back as ``lines`` single lines, to be written together."""
        self.missing[index] = lines

    def add(self, index: int, records: MemoryRecords, part: BatchOutcome) -> None:
        """Take the records of task ``index`` (or of some of its lines, when it was split) and write every task
        that is now whole and next in line order."""
        if index in self.missing:
            self.missing[index] -= len(records.lines)
            if index in self.waiting:
                kept, so_far = self.waiting[index]
                kept.lines += records.lines
                kept.nodes += records.nodes
                kept.logs += records.logs
                so_far.add(part)
                records, part = kept, so_far
            if self.missing[index] > 0:
                self.waiting[index] = (records, part)
                return
            del self.missing[index]
        self.waiting[index] = (records, part)
        while self.next in self.waiting and self.next not in self.missing:
            self._write(*self.waiting.pop(self.next))
            self.next += 1

    def flush_all(self) -> None:
        """Write what has come, whatever is missing before it (the run stops: a resumed run runs the rest)."""
        for index in sorted(self.waiting):
            self._write(*self.waiting.pop(index))

    def _write(self, records: MemoryRecords, part: BatchOutcome) -> None:
        records.lines.sort(key=lambda r: r["line_number"])
        records.replay(self.folder)
        self.outcome.add(part)


def failed_records(task: Task, reason: str, kind: str = CRASH_ERROR) -> tuple[MemoryRecords, BatchOutcome]:
    """The records of a task's lines that failed without running to their end (a line whose worker died
    ``RETRIES`` + 1 times running it alone, a flow that does not load on the workers), ``reason`` the error's
    message."""
    records, part = MemoryRecords(), BatchOutcome()
    stamp = now_iso()
    for line in task.lines:
        records.add_line({"line_number": line.number, "inputs": to_jsonable(line.inputs), "start": stamp,
                          "status": FAILED, "error": {"type": kind, "message": reason}, "end": stamp,
                          "duration_ms": 0.0})
        part.failed += 1
    return records, part
