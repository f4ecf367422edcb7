"""What `flowline run` tells of a run: show-details' table lines up in a terminal whatever the script
(and whatever control characters a cell holds); a run's default name is its flow folder's; an input left
at its default beside a same-named column is pointed out; a setting read from a connection is never
shown; a mapping that reads another run asks for --run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flowline.runs.report import details_table, display_width


def test_wide_characters_take_two_columns_and_the_table_lines_up() -> None:
    assert (display_width("hello"), display_width("你好"), display_width("e\u0301")) == (5, 4, 1)
    rows = [{"line_number": 0, "status": "Completed", "inputs": {"q": "你好世界"}, "outputs": {"a": "x"},
             "error": None},
            {"line_number": 1, "status": "Failed", "inputs": {"q": "hello"}, "outputs": None,
             "error": {"type": "ValueError", "message": "日本語" * 30}}]
    lines = details_table(rows).splitlines()
    # Every column starts at the same terminal column on every line.
    starts = [display_width(lines[0][:lines[0].index(title)]) for title in ("status", "inputs.q", "error")]
    for line, cells in zip(lines[2:], (["Completed", "你好世界"], ["Failed", "hello", "ValueError"]), strict=True):
        assert [display_width(line[:line.index(cell)]) for cell in cells] == starts[:len(cells)]
    assert display_width(lines[3].split("  ")[-1]) <= 60 and lines[3].endswith("…")


def test_a_tab_or_a_terminal_escape_in_a_cell_keeps_the_columns_in_line() -> None:
    rows = [{"line_number": 0, "status": "Completed", "inputs": {"q": "a\tb\x1b[31m"}, "outputs": {"a": "x"},
             "error": None}]
    lines = details_table(rows).splitlines()
    assert lines[2] == "0     Completed  a b [31m  x"
    assert lines[0].index("outputs.a") == lines[2].index("x")


def test_a_run_of_the_flow_in_the_current_folder_is_named_after_that_folder(tmp_path: Path) -> None:
    from conftest import SAMPLES, run_cli

    flow = tmp_path / "my-flow"
    shutil.copytree(SAMPLES / "hello", flow)
    (tmp_path / "data.jsonl").write_text('{"name": "A"}\n')
    result = run_cli("run", "create", "--flow", ".", "--data", "../data.jsonl", cwd=flow)
    assert result.code == 0, result.stderr
    assert result.json()["name"].startswith("my_flow_variant_0_")  # promptflow 1.18.5's form (test_run_names.py)


def test_a_column_named_like_an_input_with_a_default_is_pointed_out_once(tmp_path: Path) -> None:
    # promptflow 1.18.5 gives such an input its default (it maps only inputs without one by name);
    # Flowline keeps that and says how to read the column instead.
    from conftest import SAMPLES, run_cli

    (tmp_path / "data.jsonl").write_text('{"name": "A", "excited": true}\n{"name": "B", "excited": false}\n')
    result = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(tmp_path / "data.jsonl"))
    assert result.code == 0, result.stderr
    note = ("note: input(s) name, excited keep their default although the data has a column of that name (as in "
            "Prompt flow); to read the column: --column-mapping name='${data.name}' excited='${data.excited}'\n")
    assert result.stderr.count(note) == 1
    mapped = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(tmp_path / "data.jsonl"),
                     "--column-mapping", "name=${data.name}", "excited=${data.excited}")
    assert mapped.code == 0 and "note:" not in mapped.stderr


def test_a_pf_setting_read_from_a_connection_is_named_by_its_reference_never_shown(tmp_path: Path) -> None:
    from conftest import SAMPLES, create_connection, run_cli

    create_connection(tmp_path, "name: myc\ntype: custom\nsecrets: {token: SUPERSECRET123}\n")
    (tmp_path / "data.jsonl").write_text('{"name": "A"}\n')
    base = ("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(tmp_path / "data.jsonl"))
    for variable, says in (("PF_LINE_TIMEOUT_SEC", "is not a number above 0; using 600."),
                           ("PF_WORKER_COUNT", "is not a whole number above 0; using 16."),
                           ("PF_BATCH_METHOD", "is accepted but not used")):
        result = run_cli(*base, "--environment-variables", f"{variable}=${{myc.token}}")
        assert result.code == 0, result.stderr
        assert f"flowline: {variable} (from ${{myc.token}}) {says}" in result.stderr
        assert "SUPERSECRET" not in result.stderr + result.stdout
    fraction = run_cli(*base, env={**os.environ, "PF_WORKER_COUNT": "2.5"})
    assert "flowline: PF_WORKER_COUNT='2.5' is not a whole number above 0; using 16.\n" in fraction.stderr


def test_a_mapping_that_reads_another_run_asks_for_run(tmp_path: Path) -> None:
    from conftest import SAMPLES, run_cli

    (tmp_path / "data.jsonl").write_text('{"name": "A"}\n')
    result = run_cli("run", "create", "--flow", str(SAMPLES / "hello"), "--data", str(tmp_path / "data.jsonl"),
                     "--column-mapping", "name=${run.outputs.greeting}")
    assert (result.code, result.stderr) == (
        2, "flowline: error: Column mapping name=${run.outputs.greeting} reads the lines of another run: name that "
           "run with --run NAME (`flowline run list` shows the runs).\n")
