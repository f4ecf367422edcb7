"""The SDK's ``Run``: a stored run as an object (read from the run store's record and folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flowline.runs.store import RunFolder, RunRecord


@dataclass(frozen=True)
class Run:
    """A batch run, as ``Client.run`` returns it and ``Client.runs.get`` reads it (promptflow's ``Run`` entity).

    ``status`` is ``Running``, ``Completed``, ``Failed`` or ``Canceled``; ``created_on`` is ISO 8601 local time
    with its UTC offset (``2026-12-01T10:08:45.272486+01:00``: a ``str``, as promptflow 1.18.5 gives it);
    ``duration`` is in seconds (``None`` while running); ``output_path`` is the run's folder (its
    ``flow_outputs/output.jsonl`` holds the outputs of each completed line); ``properties`` holds what it ran
    (flow path, data, variant, parent run, column mapping, output path), as promptflow's ``properties`` do.
    """

    name: str
    status: str
    created_on: str
    duration: float | None
    flow: str
    data: str | None
    variant: str | None
    run: str | None
    display_name: str
    tags: dict[str, str]
    metrics: dict[str, Any]
    lines_total: int
    lines_completed: int
    lines_failed: int
    output_path: Path
    archived: bool = False
    reason: str | None = None
    """Why the run ended as it did when its lines do not say (a tool that cannot load, a killed process)."""
    properties: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: RunRecord) -> Run:
        """The run of an index record (the column mapping read from the run's ``meta.json``)."""
        meta_path = record.folder / "meta.json"
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        duration = round(record.duration_ms / 1000, 3) if record.duration_ms is not None else None
        properties = {"flow_path": record.flow, "output_path": str(record.folder), "data": record.data or None,
                      "variant": record.variant, "run": record.parent_run,
                      "column_mapping": meta.get("column_mapping", {}),
                      "system_metrics": _system_metrics(meta.get("tokens") or {}, duration, record)}
        # The store keeps local time without an offset (`run list` sorts it as text); promptflow adds it.
        created_on = datetime.fromisoformat(record.created).astimezone().isoformat()
        return cls(name=record.name, status=record.status, created_on=created_on, duration=duration,
                   flow=record.flow, data=record.data or None, variant=record.variant, run=record.parent_run,
                   display_name=record.display_name or record.name, tags=dict(record.tags),
                   metrics=RunFolder(record.folder).metrics(), lines_total=record.lines_total,
                   lines_completed=record.lines_completed, lines_failed=record.lines_failed,
                   output_path=record.folder, archived=record.archived, reason=record.reason, properties=properties)

    def __str__(self) -> str:
        done = f"{self.lines_completed} completed, {self.lines_failed} failed of {self.lines_total} lines"
        return f"Run {self.name!r}: {self.status}, {done}" + (f": {self.reason}" if self.reason else "")


def _system_metrics(tokens: dict[str, int], duration: float | None, record: RunRecord) -> dict[str, Any]:
    """promptflow 1.18.5's ``run.properties["system_metrics"]`` keys (observed): the tokens, the duration in
    seconds, ``__pf__.lines.completed`` and ``__pf__.lines.failed`` (its per-node counts are left out)."""
    return {"total_tokens": tokens.get("total", 0), "prompt_tokens": tokens.get("prompt", 0),
            "completion_tokens": tokens.get("completion", 0), "duration": duration,
            "__pf__.lines.completed": record.lines_completed, "__pf__.lines.failed": record.lines_failed}
