"""Shared helpers: run the real `flowline` command in a child process, write small flows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run `python -m flowline ARGS` and capture everything."""
    proc = subprocess.run([sys.executable, "-m", "flowline", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def one_node_flow(default: str | None = None) -> str:
    """A flow whose one python node ``t`` (tool file ``t.py``) reads the flow input ``text`` (with
    ``default`` when given) and gives the output ``out``; for ``write_flow``."""
    text = f"{{type: string, default: {default}}}" if default is not None else "{type: string}"
    return f"""
    inputs:
      text: {text}
    outputs:
      out: {{reference: "${{t.output}}"}}
    nodes:
    - name: t
      type: python
      source: {{type: code, path: t.py}}
      inputs: {{text: "${{inputs.text}}"}}
"""


def write_flow(folder: Path, files: dict[str, str]) -> Path:
    """Write files (dedented) into a flow folder; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def llm_flow(folder: Path, template: str, inputs: str = "", extra_inputs: str = "", outputs: str = "",
             files: dict[str, str] | None = None, api: str = "chat", connection: str = "test") -> Path:
    """A flow with one llm node `ask` (template prompt.jinja2) whose output is the flow output `answer`."""
    flow = (f"inputs:\n{inputs or '  question: {type: string, default: hi}'}\n"
            f"outputs:\n  answer: {{reference: '${{ask.output}}'}}\n{outputs}"
            f"nodes:\n- name: ask\n  type: llm\n  source: {{type: code, path: prompt.jinja2}}\n"
            f"  connection: {connection}\n  api: {api}\n"
            f"  inputs:\n    deployment_name: test-model\n    question: ${{inputs.question}}\n{extra_inputs}")
    return write_flow(folder, {"flow.dag.yaml": flow, "prompt.jinja2": template, **(files or {})})


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of ``needle`` in dedented ``text``."""
    text = textwrap.dedent(text).lstrip("\n")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


@pytest.fixture(autouse=True)
def flowline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own FLOWLINE_HOME (connections, runs, keys)."""
    home = tmp_path / "flowline-home"
    monkeypatch.setenv("FLOWLINE_HOME", str(home))
    monkeypatch.delenv("FLOWLINE_LLM_CACHE", raising=False)
    return home


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    return tmp_path / "flow"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server, stored as the open_ai connection 'test'."""
    fake = FakeOpenAI().start()
    create_connection(tmp_path, f"name: test\ntype: open_ai\napi_key: {fake.api_key}\nbase_url: {fake.url}\n")
    yield fake
    fake.stop()


def flow_test_args(folder: Path, case: dict[str, Any], tmp_path: Path) -> list[str]:
    """``flowline flow test`` arguments for a recorded case ``{inputs, variant?, node?}`` (conformance/ and
    corpus/ folders): text inputs as ``k=v``, others through a JSON file in ``tmp_path``."""
    args = ["flow", "test", "--flow", str(folder)]
    inputs = case.get("inputs") or {}
    if inputs and all(isinstance(v, str) for v in inputs.values()):
        args += ["--inputs", *(f"{k}={v}" for k, v in inputs.items())]
    elif inputs:
        path = tmp_path / "inputs.json"
        path.write_text(json.dumps(inputs))
        args += ["--inputs", str(path)]
    if case.get("variant"):
        args += ["--variant", case["variant"]]
    if case.get("node"):
        args += ["--node", case["node"]]
    return args


def create_connection(tmp_path: Path, text: str, *extra: str) -> Result:
    """Store a connection from YAML text through the real CLI."""
    path = tmp_path / f"connection-{abs(hash(text))}.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    result = run_cli("connection", "create", "--file", str(path), *extra)
    assert result.code == 0, result.stderr
    return result


# A flow whose tool prints the secret of connection `leaky` (custom, secret `token`) and raises with it on
# the input text "fail": for the tests that secrets are masked wherever tools' words go.
LEAKY_FLOW = {"flow.dag.yaml": """
    inputs:
      text: {type: string}
    outputs:
      out:
        type: string
        reference: ${t.output}
    nodes:
    - name: t
      type: python
      source: {type: code, path: t.py}
      inputs:
        text: ${inputs.text}
        conn: leaky
    """, "t.py": """
    from flowline import tool
    from flowline.connections import CustomConnection


    @tool
    def t(text: str, conn: CustomConnection) -> str:
        print("the token is", conn.secrets["token"])
        if text == "fail":
            raise RuntimeError(f"refused with {conn.secrets['token']}")
        return text
    """}
