"""The container files of a build context: Dockerfile, entry script, ``.dockerignore`` and README.

The image: a slim Python base of this Python's minor version (the pins were read here), the pinned
requirements installed first (a layer that changes only when they do), then Flowline's wheel (``--no-deps``,
then ``pip check``), the connection files, the entry script and the flow; it runs as an unprivileged
user, listens on ``$FLOWLINE_PORT`` (8080; ``flow serve``'s default port when it is set) and checks
``/health`` on that same port with Python's urllib (slim images have no curl). The entry script refuses to
start when a variable a connection reads is unset (one line naming every missing one), stores the
connections into a home of its own (``$FLOWLINE_SERVE_HOME``, else ``.flowline-home`` beside it: run
without Docker it never touches the user's ``FLOWLINE_HOME``), names the flow (``FLOWLINE_FLOW_NAME``) and
then ``exec``s the command, so the server is PID 1 and gets ``docker stop``'s SIGTERM itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from flowline.flow.model import Flow
from flowline.serve.placeholders import ConnectionFile, Variable

PORT = 8080
PORT_VARIABLE = "FLOWLINE_PORT"
"""The port the container's server listens on and its health check asks (``flow serve``'s default port)."""
HOME_VARIABLE = "FLOWLINE_SERVE_HOME"
"""Where the entry script stores the connections (the image's user's home in the image)."""
_HEALTH = (f"import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % "
           f"os.environ.get('{PORT_VARIABLE}', '{PORT}'), timeout=4)")


def serve_command(flow_file: str = "flow.dag.yaml", folder: str = "/app/flow") -> list[str]:
    """The container's command: the snapshot's flow file (the folder when it is ``flow.dag.yaml``)."""
    source = folder if flow_file in ("flow.dag.yaml", "flow.dag.yml") else f"{folder}/{flow_file}"
    return ["flowline", "flow", "serve", "--source", source, "--host", "0.0.0.0"]


SERVE = serve_command()


def base_image() -> str:
    """``python:<major>.<minor>-slim`` of the Python running now."""
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def dockerfile(flow_name: str, wheel_name: str, flow_file: str = "flow.dag.yaml") -> str:
    """The Dockerfile; ``wheel_name`` is Flowline's wheel under ``wheels/``, ``flow_file`` the flow's file."""
    return f"""# syntax=docker/dockerfile:1
# Made by `flowline flow build` for the flow '{flow_name}'; README.md says how to build, run and configure it.
FROM {base_image()}
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    {HOME_VARIABLE}=/home/flowline/.flowline \\
    {PORT_VARIABLE}={PORT}
RUN useradd --create-home --uid 10001 flowline
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY wheels/ ./wheels/
RUN pip install --no-deps wheels/{wheel_name} && pip check
COPY connections/ ./connections/
COPY entrypoint.sh ./
COPY --chown=flowline:flowline flow/ ./flow/
USER flowline
EXPOSE {PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
    CMD {json.dumps(["python", "-c", _HEALTH])}
ENTRYPOINT ["sh", "/app/entrypoint.sh"]
CMD {json.dumps(serve_command(flow_file))}
"""


def entrypoint(files: Sequence[ConnectionFile], variables: Sequence[Variable], flow_name: str = "") -> str:
    """The entry script (POSIX sh): check the variables, store the connections in a home of its own, name the
    flow ``flow_name``, run the command."""
    lines = ["#!/bin/sh",
             "# Made by `flowline flow build`: stores the flow's connections, whose secrets are ${env:NAME}",
             "# placeholders read from the environment when the flow loads, then runs the command (the server).",
             "set -eu"]
    if variables:
        names = " ".join(v.name for v in variables)
        lines += ["missing=''",
                  f"for name in {names}; do",
                  '  printenv "$name" > /dev/null || missing="$missing $name"',
                  "done",
                  'if [ -n "$missing" ]; then',
                  '  echo "flowline: set the environment variable(s)$missing (docker run -e NAME=...):'
                  ' the flow\'s connections read them; see README.md." >&2',
                  "  exit 2",
                  "fi"]
    # Beside this script: /app in the image, the context folder when run without Docker (absolute: the server
    # changes directory to the flow).
    lines += ['here=$(cd "$(dirname "$0")" && pwd)',
              f'FLOWLINE_HOME="${{{HOME_VARIABLE}:-$here/.flowline-home}}"',
              "export FLOWLINE_HOME"]
    if flow_name:
        lines += [f'FLOWLINE_FLOW_NAME="${{FLOWLINE_FLOW_NAME:-{_sh_text(flow_name)}}}"', "export FLOWLINE_FLOW_NAME"]
    lines += [f'flowline connection create --file "$here/connections/{f.file_name}" > /dev/null' for f in files]
    lines.append('exec "$@"')
    return "\n".join(lines) + "\n"


def _sh_text(text: str) -> str:
    """``text`` for inside a double-quoted sh word: ``$``, backquote, ``"`` and ``\\`` escaped."""
    return "".join("\\" + c if c in '$`"\\' else c for c in text)


DOCKERIGNORE = """# Made by `flowline flow build`: keep local state and secrets out of the image.
**/__pycache__
**/*.pyc
**/.env
**/*.env
**/.env.*
.flowline-home
**/.git
**/.flowline
**/.runs
"""


def _example(flow: Flow) -> dict[str, Any]:
    return {i.name: i.default.value if i.default is not None else "" for i in flow.inputs}


def readme(flow: Flow, image: str, variables: Sequence[Variable], notes: Sequence[str],
           flow_file: str = "flow.dag.yaml") -> str:
    """README.md of the context: what is in it, how to build, run, call and configure the image."""
    local_source = serve_command(flow_file, "flow")[4]
    flags = "".join(f" -e {v.name}=..." for v in variables)
    example = json.dumps(_example(flow))
    parts = [f"""# {image}: the flow '{flow.directory.name}' as an HTTP endpoint

Made by `flowline flow build`. What is here:

- `flow/`: the flow, with its `additional_includes` copied in;
- `requirements.txt`: what the image installs, pinned (Flowline's dependencies at the versions the build
  machine runs, then the flow's own requirements);
- `wheels/`: Flowline itself;
- `connections/`: the connections the flow uses, with every secret replaced by `${{env:NAME}}`;
- `entrypoint.sh`: stores those connections when the container starts, then starts the server;
- `Dockerfile`, `.dockerignore`.

No secret is in this folder or in the image: the container reads them from its environment.

## Build

```sh
docker build -t {image} .
```

Installing needs PyPI (or a mirror pip is configured for) and this folder only.

## Run

```sh
docker run --rm -p {PORT}:{PORT}{flags} {image}
```

The server answers on port {PORT}, as the user `flowline` (not root); Docker's health check asks
`GET /health` on the same port. Another port: `-e {PORT_VARIABLE}=9000 -p 9000:9000` (the server and the
health check both read it). `docker stop` ends it after the requests in flight finish.

## Call

```sh
curl -s http://127.0.0.1:{PORT}/score -H 'Content-Type: application/json' -d '{example}'
```

`GET /` is a page to try the flow; `GET /swagger.json` describes `/score`; `Accept: text/event-stream`
streams the answer; a chat flow also answers OpenAI's `POST /v1/chat/completions`.

## Configure

"""]
    if variables:
        parts.append("The container does not start without these environment variables "
                     "(`docker run -e NAME=value`, or `--env-file FILE`):\n\n")
        parts.append("| Variable | Fills |\n|---|---|\n" + "".join(
            f"| `{v.name}` | `{v.field}` of connection `{v.connection}` |\n" for v in variables))
        parts.append("\nThe connections' other fields (endpoints, API versions) are as stored where the build ran: "
                     "edit `connections/*.yaml` before `docker build` to change them (inside the container, "
                     "127.0.0.1 is the container itself).\n")
    else:
        parts.append("The flow uses no connection, so no environment variable is required.\n")
    parts.append(f"""
Other variables the flow's tools read are given the same way. Options of `flowline flow serve`
(`--workers N`, `--request-timeout S`, `--max-body-size BYTES`...) go after the image name, with the
whole command:

```sh
docker run --rm -p {PORT}:{PORT}{flags} {image} {" ".join(serve_command(flow_file))} --workers 32
```

Without Docker, in this folder (the variables set; a virtual environment keeps these pins apart):

```sh
pip install -r requirements.txt wheels/*.whl
sh entrypoint.sh flowline flow serve --source {local_source} --port {PORT}
```

The entry script stores the connections in `.flowline-home/` here (or `${HOME_VARIABLE}`), never in your own
`FLOWLINE_HOME`, so your stored connections stay as they are.
""")
    if notes:
        parts.append("\n## Notes from the build\n\n" + "".join(f"- {note}\n" for note in notes))
    return "".join(parts)
