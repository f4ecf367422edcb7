"""Running a flow over many lines: in this process (:mod:`flowline.runs.lines`) or shared out to
worker processes (:mod:`flowline.runs.pool`), then the aggregation nodes, once, here.

Every finished line is appended to the run folder at once, so nothing completed is lost if the process
dies; lines completed by the run this one resumes are passed in and not run again.
"""

from __future__ import annotations

from collections.abc import Callable

from flowline.engine.capture import routed_output
from flowline.engine.events import Emitter
from flowline.engine.image_files import run_files, writing_images
from flowline.engine.prepare import Executable, RunOptions
from flowline.engine.threads import run_interruptible
from flowline.runs.lines import DEFAULT_WORKERS, BatchOutcome, Done, FolderSink, aggregate, run_lines
from flowline.runs.mapping import Line
from flowline.runs.on_ray import RaySettings, run_on_ray
from flowline.runs.pool import run_in_processes
from flowline.runs.store import RunFolder


def run_batch(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, *, workers: int = DEFAULT_WORKERS,
              line_timeout: float | None = None, previous: dict[int, Done] | None = None,
              on_line: Callable[[str], None] = lambda status: None, processes: int = 0,
              options: RunOptions | None = None, ray: RaySettings | None = None) -> BatchOutcome:
    """Run the lines; ``previous`` holds lines completed by the run this one resumes.

    With ``processes`` > 0 the lines are shared out to that many worker processes (for CPU-bound
    tools), each running ``workers`` lines at a time; with ``ray`` they run on a Ray cluster
    (:mod:`flowline.runs.on_ray`). Aggregation runs here, over all of them.
    """
    outcome = BatchOutcome(done=dict(previous or {}))
    emitter = Emitter([FolderSink(folder)])
    with writing_images(run_files(folder.path, exe.flow.message_format)):
        _run_batch(exe, lines, folder, run_id, workers, line_timeout, on_line, processes, options or RunOptions(),
                   outcome, emitter, ray)
    return outcome


def _run_batch(exe: Executable, lines: list[Line], folder: RunFolder, run_id: str, workers: int,
               line_timeout: float | None, on_line: Callable[[str], None], processes: int,
               options: RunOptions, outcome: BatchOutcome, emitter: Emitter, ray: RaySettings | None) -> None:
    if (ray is not None or processes > 0) and lines:
        if ray is not None:
            run_on_ray(exe, lines, folder, run_id, ray, workers, line_timeout, options, outcome, on_line)
        else:
            run_in_processes(exe, lines, folder, run_id, processes, workers, line_timeout, options, outcome, on_line)
        with routed_output():
            run_interruptible(aggregate(exe, emitter, run_id, outcome))
        return

    async def everything() -> None:
        await run_lines(exe, lines, emitter, run_id, workers, line_timeout, outcome, folder, on_line)
        await aggregate(exe, emitter, run_id, outcome)

    with routed_output():
        run_interruptible(everything())
