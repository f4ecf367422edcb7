"""Flows written the way teams wrote them for promptflow 1.18.5 open clean and run as promptflow ran them.

Each folder under corpus/ is a flow (its own files, written for this corpus) with cases.json (inputs, and
optionally a variant or a single node) and expected.json. The expected values were recorded with promptflow
1.18.5 itself, as the conformance cases are: `bench/pf_reference.py tests/server/corpus` run with promptflow's
Python (telemetry and tracing off) on a copy of the folder, from a promptflow HOME where `pf connection create
-f` had made the connections of CONNECTIONS below (`test` and `aoai` pointing at tests/server/openai_server.py
run on 127.0.0.1, whose answers are deterministic), with PYTHONPATH naming the demo tool package installed by
`pip install --no-deps --target SITE tests/server/packages/flowline-demo-tools`. Image files promptflow wrote
are recorded as `<flow>/.promptflow/output/<file>.png` (its names are random). One case was recorded from `pf flow
test --flow llm_tool_calls` instead (its printed JSON): `PFClient.test` streams an LLM node that feeds a flow output,
and the fake model answers a stream with text only, never with a tool call.

Here every folder goes through the real `flowline flow validate --json`, and every case through the real
`flowline flow test`, one process per case, on a copy of the corpus and with those connections stored once.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, flow_test_args, position, run_cli
from openai_server import FakeOpenAI

CORPUS = Path(__file__).resolve().parent / "corpus"
FLOWS = sorted(p.name for p in CORPUS.iterdir() if (p / "flow.dag.yaml").exists())

# The connections the corpus names, as `pf connection create -f` took them ({url}: the fake model's base URL).
CONNECTIONS = {
    "test": "name: test\ntype: open_ai\napi_key: {key}\nbase_url: {url}\n",
    "aoai": "name: aoai\ntype: azure_open_ai\napi_key: {key}\napi_base: {base}\napi_type: azure\n"
            "api_version: '2024-10-21'\n",
    "demo": "name: demo\ntype: custom\nconfigs:\n  greeting: Hello\nsecrets:\n  token: abcdef\n",
    "vault": "name: vault\ntype: custom\nconfigs:\n  endpoint: https://svc.test\n  region: west\n"
             "secrets:\n  token: tok-1\n",
    "serp": "name: serp\ntype: serp\napi_key: serp-secret-123\n",
}

# Warnings that are what the folder is about, each as its code and the text it points at (and which
# occurrence of that text); every other folder validates without a problem.
WARNINGS = {
    "llm_connection_at_run_time": [("llm-connection-missing", "answer", 3)],
    "llm_connection_not_created": [("unknown-connection", "team_azure_openai", 1)],
}


# Where Flowline gives something else than promptflow 1.18.5 did, not yet settled (each case fails until it is).
_LOGO = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAA"
         "BJRU5ErkJggg==")


def _echoed(text: str, detail: str) -> dict[str, str]:
    """The fake model's echo of a user message of ``text`` and the corpus's 2x2 logo as an image part."""
    parts = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": _LOGO, "detail": detail}}]
    return {"answer": "echo: " + json.dumps(parts)}


# Where Flowline deliberately gives another value than promptflow's expected.json (docs/ARCHITECTURE.md,
# section 10, "Images in LLM prompts"): the reason, and Flowline's outputs.
DIFFERENCES = {
    "builtin_openai_gpt4v-0": ("promptflow-tools 1.6.1's OpenAI.chat hands `detail` to a helper whose parameter is "
                               "`image_detail`, so images always go out with detail 'auto' (a bug); Flowline sends "
                               "the node's 'low'.", _echoed("Which colour?", "low")),
    "builtin_aoai_gpt4v-0": ("promptflow-tools 1.6.1 makes `![image](...)` an image part only for images the node's "
                             "inputs hold, so the model gets the text 'logo.png'; Flowline sends the file as an image.",
                             _echoed("How many pixels?", "auto")),
    "image_llm_prompt-0": ("promptflow 1.18.5's `llm` tool renders an image input as the text 'Image(<hash>)' and "
                           "sends no image part; Flowline sends the image.", _echoed("What colour is it?", "auto")),
}


def _position(folder: str, needle: str, occurrence: int) -> tuple[int, int]:
    return position((CORPUS / folder / "flow.dag.yaml").read_text(), needle, occurrence)


class Corpus:
    """A copy of the corpus (image outputs are written into the flow folder) and a home with its connections."""

    def __init__(self, root: Path, model: FakeOpenAI) -> None:
        self.root = root / "corpus"
        shutil.copytree(CORPUS, self.root, ignore=shutil.ignore_patterns("expected.json", "__pycache__"))
        self.env = {**os.environ, "FLOWLINE_HOME": str(root / "home")}
        base = model.url.removesuffix("/v1")
        for name, text in CONNECTIONS.items():
            path = root / f"{name}.yaml"
            path.write_text(text.format(key=model.api_key, url=model.url, base=base))
            created = self.cli("connection", "create", "--file", str(path))
            assert created.code == 0, created.stderr

    def cli(self, *args: str) -> Result:
        return run_cli(*args, env=self.env)


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("corpus"), model)


def test_the_corpus_covers_enough_flows() -> None:
    assert len(FLOWS) >= 40


@pytest.mark.parametrize("folder", FLOWS)
def test_validate_finds_no_error(corpus: Corpus, folder: str) -> None:
    result = corpus.cli("flow", "validate", "--source", str(corpus.root / folder), "--json")
    assert result.code == 0, result.stdout + result.stderr
    found = [(p["code"], p["severity"], p["line"], p["column"]) for p in result.json()]
    want = [(code, "warning", *_position(folder, needle, n)) for code, needle, n in WARNINGS.get(folder, [])]
    assert found == want


def _cases() -> list[Any]:
    params = []
    for folder in FLOWS:
        cases = json.loads((CORPUS / folder / "cases.json").read_text())
        expected = json.loads((CORPUS / folder / "expected.json").read_text()) if cases else []
        for index, (case, want) in enumerate(zip(cases, expected, strict=True)):
            case_id = f"{folder}-{index}"
            if case_id in DIFFERENCES:
                want = {"outputs": DIFFERENCES[case_id][1]}
            params.append(pytest.param(folder, case, want, id=case_id))
    return params


def _image_files(value: Any, folder: Path) -> Any:
    """Image files named as pf_reference.py records them."""
    if isinstance(value, dict):
        return {k: _image_files(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_image_files(v, folder) for v in value]
    output = str(folder.resolve() / ".promptflow" / "output") + "/"
    if isinstance(value, str) and value.startswith(output):
        return "<flow>/.promptflow/output/<file>" + Path(value).suffix
    return value


@pytest.mark.parametrize("folder,case,expected", _cases())
def test_flow_test_gives_what_promptflow_gave(corpus: Corpus, folder: str, case: dict[str, Any],
                                              expected: dict[str, Any], tmp_path: Path) -> None:
    flow = corpus.root / folder
    result = corpus.cli(*flow_test_args(flow, case, tmp_path))
    if "error" in expected:
        assert result.code in (1, 2), result.stdout
        assert result.stdout == ""
        assert "Traceback" not in result.stderr, result.stderr
        return
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert _image_files(result.json(), flow) == expected["outputs"]


def test_a_connection_not_created_fails_the_run_naming_it(corpus: Corpus) -> None:
    # promptflow 1.18.5: "ConnectionNotFoundError: Connection 'team_azure_openai' is not found." (expected.json).
    result = corpus.cli("flow", "test", "--flow", str(corpus.root / "llm_connection_not_created"))
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == (
        "flowline: error: Node 'answer' cannot run: Connection 'team_azure_openai' does not exist (known: aoai, "
        "demo, serp, test, vault). Create it with `flowline connection create --file <file>.yaml --name "
        "team_azure_openai`.")


def test_an_llm_node_without_connection_runs_with_one_given_at_run_time(corpus: Corpus, tmp_path: Path) -> None:
    # promptflow's `pf flow test` cannot give a connection; `pf run create --connections` can.
    data = tmp_path / "data.jsonl"
    data.write_text('{"question": "first?"}\n{"question": "second?"}\n')
    created = corpus.cli("run", "create", "--flow", str(corpus.root / "llm_connection_at_run_time"), "--data",
                         str(data), "--column-mapping", "question=${data.question}", "--connections",
                         "answer.connection=test", "--name", "corpus_runtime_connection")
    assert created.code == 0, created.stderr
    details = corpus.cli("run", "show-details", "--name", "corpus_runtime_connection", "--json").json()
    assert [d["outputs"] for d in details] == [{"answer": "echo: first?"}, {"answer": "echo: second?"}]
