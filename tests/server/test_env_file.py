"""`.env` files of `--environment-variables` are read by python-dotenv's rules, as promptflow 1.18.5 reads
them (`dotenv_values`): comments, quotes, escapes and `export` (expected values observed with python-dotenv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, write_flow
from flowline.cli.env_file import EnvFileError, parse_env

TEXT = """\
# a comment
HASH=value # trailing comment
A=x#not-a-comment
export B = " spaced "  # c
C='single \\' q'
D="dq \\n \\t \\" e"
E=
'G'=g
H="multi
line"
I=a b   c
J=${X}
  # indented comment
K="x" # after
"""


def test_dotenv_rules() -> None:
    assert parse_env(TEXT) == {"HASH": "value", "A": "x#not-a-comment", "B": " spaced ", "C": "single ' q",
                               "D": 'dq \n \t " e', "E": "", "G": "g", "H": "multi\nline", "I": "a b   c",
                               "J": "${X}", "K": "x"}


@pytest.mark.parametrize("text", ["F\n", 'X="a" junk\n', 'OK=1\nX="unclosed\n'])
def test_lines_python_dotenv_skips_are_errors_naming_the_line(text: str) -> None:
    with pytest.raises(EnvFileError, match=f"line {text.count(chr(10))} is not KEY=VALUE"):
        parse_env(text)


def test_flow_test_reads_a_dotenv_file(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": """
        outputs:
          o: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
    """, "t.py": """
        import os

        from flowline import tool


        @tool
        def t() -> list:
            return [os.environ["HASH"], os.environ["D"]]
    """})
    (tmp_path / "x.env").write_text(TEXT)
    result = run_cli("flow", "test", "--flow", str(folder), "--environment-variables", str(tmp_path / "x.env"))
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"o": ["value", 'dq \n \t " e']}
