"""`flowline flow build --format docker`: the build context's files, its Dockerfile read structurally, pinned
requirements, no secret anywhere in it, and the server started from it (through its own entry script,
as the container starts it) answering /score. No Docker is used."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import create_connection, run_cli, write_flow
from flowline.serve.packages import pinned_requirements
from flowline.serve.placeholders import variable_name
from serve_process import READY

SECRET = "tok-SECRET-8d1f2a"
TOKEN_HASH = hashlib.sha256(SECRET.encode()).hexdigest()[:12]

FLOW = """
    inputs:
      name: {type: string, default: world}
    outputs:
      out: {reference: "${hi.output}"}
    additional_includes:
    - ../shared/greeting.txt
    - ../shared/words
    nodes:
    - name: hi
      type: python
      source: {type: code, path: hi.py}
      inputs: {name: "${inputs.name}", conn: svc}
"""

TOOL = """
    import hashlib
    from pathlib import Path

    from promptflow.connections import CustomConnection
    from promptflow.core import tool


    @tool
    def hi(name: str, conn: CustomConnection) -> dict:
        greeting = Path("greeting.txt").read_text().strip()
        word = Path("words/w.txt").read_text().strip()
        return {"text": f"{greeting} {name} {word} from {conn.endpoint}",
                "token": hashlib.sha256(conn.token.encode()).hexdigest()[:12]}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A flow using the stored custom connection 'svc' (secret SECRET) and two includes; returns its folder."""
    write_flow(tmp_path / "project" / "shared", {"greeting.txt": "Hello\n", "words/w.txt": "dear\n"})
    flow = write_flow(tmp_path / "project" / "greeter", {
        "flow.dag.yaml": FLOW, "hi.py": TOOL, "requirements.txt": "requests==2.31.0\nPyYAML>=6\npromptflow-tools\n",
        ".env": f"SVC_TOKEN={SECRET}\n", "prod.env": f"SVC_TOKEN={SECRET}\n", ".env.local": f"T={SECRET}\n",
        "notes/readme.txt": "notes\n"})
    (flow / "linked.txt").symlink_to(tmp_path / "project" / "shared" / "greeting.txt")
    create_connection(tmp_path, f"name: svc\ntype: custom\nconfigs:\n  endpoint: https://svc.test\n"
                                f"secrets:\n  token: {SECRET}\n")
    return flow


@pytest.fixture
def built(project: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = run_cli("flow", "build", "--source", str(project), "--output", str(out), "--format", "docker")
    assert result.code == 0, result.stderr
    assert result.json() == {"output": str(out), "image": "greeter", "environment_variables": ["SVC_TOKEN"]}
    assert "docker run --rm -p 8080:8080 -e SVC_TOKEN=... greeter" in result.stderr
    assert "left out 'promptflow-tools' of requirements.txt" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    return out


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def test_context_files(built: Path) -> None:
    assert files_under(built) == {
        ".dockerignore", "Dockerfile", "README.md", "entrypoint.sh", "requirements.txt", "connections/svc.yaml",
        "wheels/flowline-0.1.0-py3-none-any.whl", "flow/flow.dag.yaml", "flow/hi.py", "flow/requirements.txt",
        "flow/notes/readme.txt", "flow/linked.txt", "flow/greeting.txt", "flow/words/w.txt"}
    flow = built / "flow"
    for name in ("greeting.txt", "words", "words/w.txt", "linked.txt"):  # real files, not links
        assert not (flow / name).is_symlink()
    assert (flow / "linked.txt").read_text() == "Hello\n"
    dag = (flow / "flow.dag.yaml").read_text()
    assert "additional_includes" not in dag and "../shared" not in dag
    assert dag.startswith("inputs:\n  name: {type: string, default: world}\noutputs:\n")
    assert run_cli("flow", "validate", "--source", str(flow)).code == 0
    assert (built / "connections" / "svc.yaml").read_text() == (
        "name: svc\ntype: custom\nconfigs:\n  endpoint: https://svc.test\nsecrets:\n  token: ${env:SVC_TOKEN}\n")
    with zipfile.ZipFile(built / "wheels" / "flowline-0.1.0-py3-none-any.whl") as wheel:
        names = set(wheel.namelist())
        assert {"flowline/__init__.py", "flowline/cli/__init__.py", "flowline/serve/build.py",
                "flowline/schemas/flow.schema.json", "flowline-0.1.0.dist-info/RECORD"} <= names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert "flowline = flowline.cli:main" in wheel.read("flowline-0.1.0.dist-info/entry_points.txt").decode()
    readme = (built / "README.md").read_text()
    assert "docker build -t greeter ." in readme and "| `SVC_TOKEN` | `token` of connection `svc` |" in readme
    assert '-d \'{"name": "world"}\'' in readme


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments skipped, continuation lines joined."""
    found, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


def test_dockerfile_structure(built: Path) -> None:
    steps = dockerfile_instructions((built / "Dockerfile").read_text())
    keywords = [k for k, _ in steps]
    assert set(keywords) <= {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT",
                             "CMD"}
    assert steps[0] == ("FROM", f"python:{sys.version_info.major}.{sys.version_info.minor}-slim")
    assert keywords.count("FROM") == 1 and keywords[-2:] == ["ENTRYPOINT", "CMD"]
    user = next(args for k, args in steps if k == "USER")
    runs = [args for k, args in steps if k == "RUN"]
    assert user not in ("root", "0") and runs[0] == f"useradd --create-home --uid 10001 {user}"
    # Everything installed before the image drops to the user; nothing runs as root after it.
    assert [k for k in keywords[keywords.index("USER"):]] == ["USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD"]
    assert runs[1:] == ["pip install -r requirements.txt",
                        "pip install --no-deps wheels/flowline-0.1.0-py3-none-any.whl && pip check"]
    for args in (a for k, a in steps if k == "COPY"):
        source = args.split()[-2]
        assert (built / source).exists(), source
    assert dict(steps)["EXPOSE"] == "8080"
    health = dict(steps)["HEALTHCHECK"]
    command = json.loads(health[health.index("CMD ") + 4:])
    assert command[:2] == ["python", "-c"] and "os.environ.get('FLOWLINE_PORT', '8080')" in command[2]
    assert "FLOWLINE_PORT=8080" in dict(steps)["ENV"].split()
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["sh", "/app/entrypoint.sh"]
    assert json.loads(dict(steps)["CMD"]) == ["flowline", "flow", "serve", "--source", "/app/flow", "--host",
                                              "0.0.0.0"]  # the port: $FLOWLINE_PORT, which the health check asks
    assert {"**/.env", "**/*.env", "**/.env.*"} <= set((built / ".dockerignore").read_text().splitlines())


def test_requirements_are_pinned(built: Path) -> None:
    lines = [line for line in (built / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==\S+", line) for line in lines), lines
    names = [line.partition("==")[0].lower() for line in lines]
    assert len(names) == len(set(names))
    assert {"starlette", "uvicorn", "openai", "pyyaml", "requests"} <= set(names)
    assert "requests==2.31.0" in lines  # the flow's pin, kept
    assert not {"flowline", "promptflow", "promptflow-tools"} & set(names)
    assert not {"pygls", "lsprotocol", "debugpy"} & set(names)  # the editor's side: serving never imports them
    with zipfile.ZipFile(next((built / "wheels").iterdir())) as wheel:
        metadata = wheel.read("flowline-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: starlette" in metadata and "Requires-Dist: pygls" not in metadata


def test_no_secret_anywhere(built: Path) -> None:
    for path in built.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, path
            if path.suffix == ".whl":
                with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                    assert not [n for n in wheel.namelist() if SECRET.encode() in wheel.read(n)]


def test_entry_script_names_missing_variables(built: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FLOWLINE_HOME": str(tmp_path / "container-home")}
    env.pop("SVC_TOKEN", None)
    proc = subprocess.run(["sh", str(built / "entrypoint.sh"), "true"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr == ("flowline: set the environment variable(s) SVC_TOKEN (docker run -e NAME=...): the flow's "
                           "connections read them; see README.md.\n")


@pytest.fixture
def served(built: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    """The server of the build context, started as the container starts it (its entry script stores the
    connection in a fresh FLOWLINE_HOME) with the placeholder's variable set, on a free port (``--port 0``);
    yields (url, process, its stderr lines so far)."""
    commands = re.search(r"\{([^}]*)\}", run_cli("flow", "--help").stdout)
    if commands is None or "serve" not in commands.group(1).split(","):
        pytest.skip("waits for `flowline flow serve`, which another part of issue 17 adds")
    env = {**os.environ, "FLOWLINE_HOME": str(tmp_path / "container-home"), "SVC_TOKEN": SECRET,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(["sh", str(built / "entrypoint.sh"), sys.executable, "-m", "flowline", "flow", "serve",
                             "--source", str(built / "flow"), "--host", "127.0.0.1", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            ready = READY.match(line.rstrip("\n"))
            if ready is not None:
                assert ready["name"] == "greeter"  # the flow's own name, not its snapshot folder's
                yield ready["url"], proc, seen
                break
        else:
            pytest.fail(f"the server ended before it was ready:\n{''.join(seen)}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_server_from_the_context_answers(served: tuple[str, subprocess.Popen[str], list[str]],
                                         built: Path, tmp_path: Path) -> None:
    url, proc, seen = served
    # The entry script stored the connection in a home of its own, beside it: the caller's FLOWLINE_HOME is
    # left as it was (run without Docker, it would otherwise replace the user's own connection).
    assert not (tmp_path / "container-home").exists()
    assert (built / ".flowline-home").is_dir()
    response = httpx.post(f"{url}/score", json={}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == {"out": {"text": "Hello world dear from https://svc.test", "token": TOKEN_HASH}}
    assert httpx.post(f"{url}/score", json={"name": "Ada"}, timeout=60).json()["out"]["text"].startswith("Hello Ada")
    # The image's HEALTHCHECK command, pointed at this server's port.
    steps = dict(dockerfile_instructions((built / "Dockerfile").read_text()))
    health = json.loads(steps["HEALTHCHECK"][steps["HEALTHCHECK"].index("CMD ") + 4:])
    health[0] = sys.executable
    port = url.rsplit(":", 1)[1]
    assert subprocess.run(health, capture_output=True, env={**os.environ, "FLOWLINE_PORT": port}).returncode == 0
    swagger = httpx.get(f"{url}/swagger.json", timeout=60).json()
    assert swagger["info"]["x-flow-name"] == "greeter" and swagger["info"]["title"] == "Flowline[greeter] API"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert SECRET not in "".join(seen) + (proc.stderr.read() if proc.stderr else "")


def test_output_folder_rules(project: Path, built: Path, tmp_path: Path) -> None:
    again = run_cli("flow", "build", "--source", str(project), "--output", str(built))
    assert again.code == 2
    assert again.stderr == (f"flowline: error: --output '{built}' is not empty; choose a new folder, or add --force "
                            "to replace the build in it.\n")
    (built / "flow" / "stale.py").write_text("old\n")
    (built / "mine.txt").write_text("kept\n")
    forced = run_cli("flow", "build", "--source", str(project), "--output", str(built), "--force")
    assert forced.code == 0, forced.stderr
    assert not (built / "flow" / "stale.py").exists() and (built / "mine.txt").read_text() == "kept\n"
    inside = run_cli("flow", "build", "--source", str(project), "--output", str(project / "out"))
    assert inside.code == 2 and "is inside the flow folder" in inside.stderr
    executable = run_cli("flow", "build", "--source", str(project), "--output", str(tmp_path / "x"),
                         "--format", "executable")
    assert executable.code == 2
    assert executable.stderr == "flowline: error: --format executable is not supported; use --format docker.\n"
    assert not (tmp_path / "x").exists()


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    without_includes = "".join(line for line in FLOW.splitlines(keepends=True)
                               if "additional_includes" not in line and "../shared" not in line)
    flow = write_flow(tmp_path / "lonely", {"flow.dag.yaml": without_includes, "hi.py": TOOL})
    missing = run_cli("flow", "build", "--source", str(flow), "--output", str(tmp_path / "o1"))
    assert missing.code == 2
    assert missing.stderr.startswith("flowline: error: The flow uses connection 'svc': Connection 'svc' does not "
                                     "exist")
    (flow / "flow.dag.yaml").write_text((flow / "flow.dag.yaml").read_text().replace("${hi.output}", "${nope}"))
    invalid = run_cli("flow", "build", "--source", str(flow), "--output", str(tmp_path / "o2"))
    assert invalid.code == 2 and "The flow has 1 error(s)" in invalid.stderr and "nope" in invalid.stderr
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_variable_names() -> None:
    assert variable_name("svc", "token") == "SVC_TOKEN"
    assert variable_name("my-openai.v2", "api_key") == "MY_OPENAI_V2_API_KEY"
    assert variable_name("1st", "key") == "_1ST_KEY"


def test_flow_requirements_merge(tmp_path: Path) -> None:
    file = tmp_path / "requirements.txt"
    file.write_text("# tools\nPyYAML>=6  # pinned here at the installed version\nno-such-dist-xyz>=1\n"
                    "--index-url https://mirror.test/simple\nopenai==1.30.0\npromptflow\n")
    pins = pinned_requirements(file)
    own = pins.lines[-4:]
    assert own[0].startswith("PyYAML==") and own[1:] == ("no-such-dist-xyz>=1", "--index-url https://mirror.test/simple",
                                                         "openai==1.30.0")
    assert [line for line in pins.lines if line.lower().startswith(("pyyaml", "openai"))] == [own[0], own[3]]
    assert pins.notes == ("'no-such-dist-xyz>=1' of requirements.txt is not pinned: it is not installed here to read "
                          "a version from",
                          "left out 'promptflow' of requirements.txt: the image runs the flow with Flowline alone")


def test_an_include_named_like_a_file_of_the_flow_refuses_the_build(project: Path, tmp_path: Path) -> None:
    (project.parent / "shared" / "hi.py").write_text("print('not the tool')\n")
    dag = project / "flow.dag.yaml"
    dag.write_text(dag.read_text().replace("- ../shared/words\n", "- ../shared/words\n- ../shared/hi.py\n"))
    refused = run_cli("flow", "build", "--source", str(project), "--output", str(tmp_path / "o"))
    assert refused.code == 2
    assert refused.stderr == (
        f"flowline: error: additional_includes entry '../shared/hi.py' would be copied over the flow's own file "
        f"'hi.py' ({project / 'hi.py'}); the flow runs its own file (flow test, flow serve), so the image would run "
        "other code. Rename one of them and build again.\n")
    assert not (tmp_path / "o").exists()


def test_a_flow_file_given_is_the_flow_built_and_errors_are_prefixed_once(project: Path, tmp_path: Path) -> None:
    (project / "other.yaml").write_text("inputs:\n  t: {type: string}\noutputs:\n  o: {reference: '${inputs.t}'}\n"
                                        "nodes: []\n")
    out = tmp_path / "o"
    built = run_cli("flow", "build", "--source", str(project / "other.yaml"), "--output", str(out))
    assert built.code == 0, built.stderr
    steps = dict(dockerfile_instructions((out / "Dockerfile").read_text()))
    assert json.loads(steps["CMD"])[3:5] == ["--source", "/app/flow/other.yaml"]
    assert "--source flow/other.yaml" in (out / "README.md").read_text()
    (project / "bad.yaml").write_text("inputs: {}\noutputs:\n  o: {reference: '${nope.output}'}\nnodes: []\n")
    invalid = run_cli("flow", "build", "--source", str(project / "bad.yaml"), "--output", str(tmp_path / "o2"))
    lines = invalid.stderr.strip().splitlines()
    assert invalid.code == 2 and lines[-1].startswith("flowline: error: The flow has 1 error(s)")
    assert lines[0].startswith(str(project / "bad.yaml")) and "flowline: error:" not in lines[0]


def test_a_connection_to_this_machine_is_warned_about(tmp_path: Path) -> None:
    create_connection(tmp_path, "name: here\ntype: open_ai\napi_key: sk-local-key-1\nbase_url: http://127.0.0.1:8191/v1\n")
    flow = write_flow(tmp_path / "local", {
        "flow.dag.yaml": """
            inputs: {}
            outputs:
              out: {reference: "${hi.output}"}
            nodes:
            - name: hi
              type: python
              source: {type: code, path: hi.py}
              inputs: {conn: here}
        """,
        "hi.py": """
            from promptflow.connections import OpenAIConnection
            from promptflow.core import tool

            @tool
            def hi(conn: OpenAIConnection) -> str:
                return conn.base_url
        """,
    })
    result = run_cli("flow", "build", "--source", str(flow), "--output", str(tmp_path / "o"))
    assert result.code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("flowline: warning:")]
    assert warnings == ["flowline: warning: connection 'here' has base_url http://127.0.0.1:8191/v1: inside a "
                        "container that is the container itself; edit connections/here.yaml in the build (e.g. "
                        "http://host.docker.internal:PORT/...) before `docker build`."]
