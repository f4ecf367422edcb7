"""Run names: a name that is a path is refused by every command before it touches FLOWLINE_HOME; a
run without a name is named as promptflow names it; `run list` keeps the order runs were made in."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli

RULE = ("a run name has letters, digits, '_', '-' and '.' only, starting with a letter, digit or '_' and not "
        "ending in a dot.")


def _hello(tmp_path: Path) -> tuple[str, ...]:
    (tmp_path / "data.jsonl").write_text('{"name": "A"}\n')
    return ("--flow", str(SAMPLES / "hello"), "--data", str(tmp_path / "data.jsonl"))


@pytest.mark.parametrize("name", ["..", "../../escape", "a/b", "a\\b", ".hidden", "a:b", "a b", "tab\there", "end."])
def test_a_path_like_run_name_is_refused_by_every_command_before_the_disk_is_touched(tmp_path: Path,
                                                                                     name: str) -> None:
    # promptflow 1.18.5 takes any name (observed: `a/b` made nested run folders, `.hidden` a hidden one).
    home = Path(os.environ["FLOWLINE_HOME"])
    shown = name.replace("\t", "\\t")
    created = run_cli("run", "create", *_hello(tmp_path), "--name", name)
    assert (created.code, created.stderr) == (
        2, f"flowline: error: Run name '{shown}' is not allowed: {RULE} Choose another --name.\n")
    for command in (("run", "show", "--name", name), ("run", "delete", "--name", name),
                    ("run", "show-details", "--name", name), ("run", "show-metrics", "--name", name),
                    ("run", "visualize", "--names", name), ("run", "create", "--resume-from", name),
                    ("run", "create", *_hello(tmp_path), "--run", name)):
        refused = run_cli(*command)
        assert (refused.code, refused.stderr) == (2, f"flowline: error: Run name '{shown}' is not allowed: {RULE}\n")
    assert not home.exists()


def test_delete_of_a_refused_name_keeps_flowline_home(tmp_path: Path) -> None:
    home = Path(os.environ["FLOWLINE_HOME"])
    assert run_cli("run", "create", *_hello(tmp_path), "--name", "kept").code == 0
    assert run_cli("run", "delete", "--name", "..").code == 2
    assert run_cli("run", "delete", "--name", ".runs/..").code == 2
    assert (home / "runs.sqlite").is_file() and (home / ".runs" / "kept" / "meta.json").is_file()
    assert run_cli("run", "show", "--name", "kept").code == 0


def test_names_with_letters_digits_and_inner_dots_and_dashes_are_kept(tmp_path: Path) -> None:
    for name in ("ü-x.1", "a..b", "_tmp", "Run_2"):
        created = run_cli("run", "create", *_hello(tmp_path), "--name", name)
        assert created.code == 0, created.stderr
        assert run_cli("run", "show", "--name", name).json()["name"] == name


def test_a_run_without_a_name_is_named_as_promptflow_names_it(tmp_path: Path) -> None:
    # promptflow 1.18.5 (observed): <flow folder>_<variant id or variant_0>_<%Y%m%d_%H%M%S_%f>, lower-cased,
    # each run of characters other than letters and digits made one '_', a leading digit prefixed with 'n'.
    flow = tmp_path / "My Flow-é"
    shutil.copytree(SAMPLES / "hello", flow)
    (tmp_path / "data.jsonl").write_text('{"name": "A"}\n')
    plain = run_cli("run", "create", "--flow", str(flow), "--data", str(tmp_path / "data.jsonl"))
    assert plain.code == 0, plain.stderr
    assert re.fullmatch(r"my_flow_é_variant_0_\d{8}_\d{6}_\d{6}", plain.json()["name"])
    digits = tmp_path / "2nd"
    shutil.copytree(SAMPLES / "hello", digits)
    named = run_cli("run", "create", "--flow", str(digits), "--data", str(tmp_path / "data.jsonl"))
    assert re.fullmatch(r"n2nd_variant_0_\d{8}_\d{6}_\d{6}", named.json()["name"])


def test_run_list_is_newest_first_for_runs_made_in_one_second(tmp_path: Path) -> None:
    names = [f"o{i}" for i in range(1, 5)]
    for name in names:
        assert run_cli("run", "create", *_hello(tmp_path), "--name", name).code == 0
    listed = [row["name"] for row in run_cli("run", "list").json()]
    assert listed == names[::-1]
