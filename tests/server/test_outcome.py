"""How a run's child process ended, told without processes (engine/outcome.py): the cases the real
server cannot easily provoke."""

from __future__ import annotations

from flowline.engine.outcome import RunWatch, ending, reason

CRASH = """\
      ok  first  2 ms
Traceback (most recent call last):
  File "/x/flowline/cli.py", line 3, in main
    run()
RuntimeError: the engine broke
and said so on two lines
"""


def test_a_traceback_gives_its_exception_lines_and_not_its_frames() -> None:
    assert reason(CRASH) == "RuntimeError: the engine broke\nand said so on two lines"
    assert reason("usage: flowline ...\nflowline: error: --inputs: 'x' is not of the form key=value.\n") == \
        "--inputs: 'x' is not of the form key=value."
    assert reason("\n \n") is None


def test_a_process_that_never_started_is_a_failed_run_with_an_id() -> None:
    watch = RunWatch("/w/hello/flow.dag.yaml", "greet", {"name": "Ada"})
    end = ending(watch, None, "", start_error="No such file or directory", python="/venv/bin/python")
    assert end.answer["status"] == "Failed" and end.answer["started"] is False
    assert end.answer["error"] == {"type": "ProcessError", "message": "Python (/venv/bin/python) could not start "
                                                                      "the run: No such file or directory"}
    start, finish = end.events
    assert start["type"] == "run_start" and start["node"] == "greet" and start["run_id"].startswith("hello_")
    assert finish["type"] == "run_end" and finish["run_id"] == start["run_id"] == end.answer["run_id"]


def test_a_run_end_the_child_wrote_is_the_answer_and_nothing_is_added() -> None:
    watch = RunWatch("/w/f/flow.dag.yaml", None, {})
    for event in ({"type": "run_start", "run_id": "r"}, {"type": "node_start", "node": "a"},
                  {"type": "node_end", "node": "a", "status": "Failed"},
                  {"type": "run_end", "run_id": "r", "status": "Failed",
                   "error": {"type": "ModuleNotFoundError", "message": "No module named 'tiktoken'"}}):
        watch.see(event)
    end = ending(watch, 1, "")
    assert end.events == []
    assert end.answer["missing_module"] == "tiktoken" and end.answer["run_id"] == "r" and end.answer["started"]
