"""``flowline flow build --format docker``: a self-contained Docker build context for a flow.

    OUT/
      Dockerfile  .dockerignore  entrypoint.sh  README.md  requirements.txt
      flow/         the flow, additional_includes copied in
      connections/  <name>.yaml, secrets as ${env:NAME}         (serve/placeholders.py)
      wheels/       flowline-<version>-py3-none-any.whl        (serve/packages.py)

``requirements.txt`` comes from serve/packages.py, the container files from serve/container.py.

The flow folder is copied with each ``additional_includes`` entry copied in under its base name and the
key taken out of the copy's ``flow.dag.yaml`` (as ``pf flow build`` does), so the snapshot needs nothing
outside itself. An entry whose base name is also a file or folder of the flow refuses the build: promptflow
copies the include over the flow's own file, so the image would run other code than ``flow test`` (where
the flow's own file wins). Symbolic links are copied as the files they point to: a link would be dangling
in the image. Local state is left out: run folders, caches, byte code, version control, virtual
environments, and ``.env``, ``*.env`` and ``.env.*`` files (they hold secrets; the container gets its
variables from ``docker run``).

The snapshot folder is ``flow/``; the entry script names the served flow after the flow's own folder
(``FLOWLINE_FLOW_NAME``), so the ready line, swagger and OpenAI's ``model`` say its name, not ``flow``.
A connection whose address is this machine (127.0.0.1, localhost) is written as stored, with a warning:
inside a container that address is the container itself.

The flow is validated first (errors refuse the build); a connection it uses must be stored here, since
its file is written from the store. promptflow 1.18.5's ``pf flow build`` writes into an output folder that
holds files already, leaving the files of an earlier build there (a deleted tool file would still be
in the image); Flowline refuses a folder that is not empty unless ``force`` is set, and then replaces
only what a build writes.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowline.connections.store import ConnectionStore
from flowline.flow.files import UserFileError, include_roots, read_user_text
from flowline.flow.model import Flow
from flowline.flow.parse import YMap, parse, to_python
from flowline.flow.problems import Severity
from flowline.flow.spans import Span
from flowline.flow.validate import validate_file
from flowline.serve.container import DOCKERIGNORE, dockerfile, entrypoint, readme
from flowline.serve.packages import PinError, flow_requirements_file, pinned_requirements, write_wheel
from flowline.serve.placeholders import PlaceholderError, Variable, connections_used, placeholder_files
from flowline.service.yaml_edit import remove_entry
from flowline.service.yaml_text import layout

# What a build writes at the top of its output folder (``force`` replaces these and nothing else).
_WRITTEN = ("flow", "connections", "wheels", "requirements.txt", "Dockerfile", ".dockerignore", "entrypoint.sh",
            "README.md")
# What the flow's copy leaves out (see the module's docstring).
_IGNORE = shutil.ignore_patterns(".flowline", ".runs", ".promptflow", "__pycache__", "*.pyc", ".git", "node_modules",
                                 ".venv", "venv", ".env", "*.env", ".env.*", ".mypy_cache", ".pytest_cache",
                                 ".flowline-home")


class BuildError(Exception):
    """A build that cannot be made; the message says what, where and how to fix it."""


@dataclass(frozen=True)
class BuildResult:
    """What a build made: the output folder, the image name the README uses, the environment variables the
    container needs and notes for the person building (requirements left out or not pinned)."""

    output: Path
    image: str
    variables: tuple[Variable, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    """What will likely not work in the container (a connection to 127.0.0.1), one line each."""


def image_name(flow_dir: Path) -> str:
    """A Docker image name from the flow folder's name: lower-case, runs of other characters than letters,
    digits, ``.``, ``_`` and ``-`` made one ``-``; ``flow`` when nothing is left."""
    name = re.sub(r"[^a-z0-9._-]+", "-", flow_dir.name.lower()).strip("._-")
    return name or "flow"


def without_includes(text: str) -> str:
    """``flow.dag.yaml`` text without its top-level ``additional_includes`` entry; the other lines as written."""
    root = parse(text).root
    if not isinstance(root, YMap) or not any(key.value == "additional_includes" for key, _ in root.items):
        return text
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(line: int, column: int) -> int:
        return min(offsets[line] + column, len(text)) if line < len(lines) else len(text)

    edits: list[tuple[Span, str]] = remove_entry(layout(text, root), root, "additional_includes")
    for span, new in sorted(edits, key=lambda e: (e[0].start_line, e[0].start_col), reverse=True):
        start, end = offset(span.start_line, span.start_col), offset(span.end_line, span.end_col)
        text = text[:start] + new + text[end:]
    return text


def include_conflicts(flow: Flow) -> list[str]:
    """One message per ``additional_includes`` entry whose base name is also a file or folder of the flow."""
    conflicts = []
    for item in flow.additional_includes:
        if not isinstance(item.value, str) or not item.value:
            continue
        source = (flow.directory / item.value).resolve()
        own = flow.directory / source.name
        if (own.exists() or own.is_symlink()) and own.resolve() != source:
            kind = "folder" if own.is_dir() else "file"
            conflicts.append(f"additional_includes entry '{item.value}' would be copied over the flow's own {kind} "
                             f"'{source.name}' ({own}); the flow runs its own {kind} (flow test, flow serve), so the "
                             "image would run other code. Rename one of them and build again.")
    return conflicts


_LOCAL_HOSTS = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(127\.\d+\.\d+\.\d+|localhost|\[::1\]|0\.0\.0\.0)"
                          r"(?:[:/]|$)", re.IGNORECASE)


def local_address_warnings(files: list[Any]) -> list[str]:
    """A warning per connection field whose URL points at this machine (inside a container: the container)."""
    warnings = []
    for file in files:
        data = file.data
        fields = {**data, **(data.get("configs") or {})} if isinstance(data.get("configs"), dict) else data
        for key, value in fields.items():
            if isinstance(value, str) and _LOCAL_HOSTS.match(value.strip()):
                warnings.append(f"connection '{data.get('name')}' has {key} {value}: inside a container "
                                f"that is the container itself; edit connections/{file.file_name} in the build "
                                "(e.g. http://host.docker.internal:PORT/...) before `docker build`.")
    return warnings


def write_snapshot(flow: Flow, target: Path) -> None:
    """Copy the flow folder to ``target`` (which must not exist) with its includes resolved into it.

    Raises ``OSError`` when a file cannot be read or written.
    """
    shutil.copytree(flow.directory, target, ignore=_IGNORE, ignore_dangling_symlinks=True)
    for name, source in include_roots(flow).items():
        destination = target / name
        if source.is_dir():
            if destination.is_file():
                destination.unlink()
            shutil.copytree(source, destination, ignore=_IGNORE, dirs_exist_ok=True)
        else:
            if destination.is_dir():
                shutil.rmtree(destination)
            shutil.copy2(source, destination)
    dag = target / flow.path.name
    text = dag.read_bytes().decode("utf-8")  # bytes, so CRLF line ends stay as written
    edited = without_includes(text)
    if edited != text:
        dag.write_bytes(edited.encode("utf-8"))


def _requirements_setting(flow_path: Path) -> str | None:
    """``environment.python_requirements_txt`` of the flow file, when it names one."""
    data: Any = to_python(parse(read_user_text(flow_path, "flow file")).root)
    environment = data.get("environment") if isinstance(data, dict) else None
    named = environment.get("python_requirements_txt") if isinstance(environment, dict) else None
    return named if isinstance(named, str) and named else None


def _check_output(output: Path, flow_dir: Path, force: bool) -> None:
    if output == flow_dir or flow_dir in output.parents:
        raise BuildError(f"--output '{output}' is inside the flow folder '{flow_dir}', which would copy the build "
                         "into itself; choose a folder outside it.")
    if output in flow_dir.parents:
        raise BuildError(f"--output '{output}' holds the flow folder '{flow_dir}'; choose a folder of its own.")
    if output.exists() and not output.is_dir():
        raise BuildError(f"--output '{output}' is a file; give a folder.")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise BuildError(f"--output '{output}' is not empty; choose a new folder, or add --force to replace the "
                         "build in it.")


def _clear(output: Path) -> None:
    """Remove what an earlier build wrote into ``output``."""
    for name in _WRITTEN:
        path = output / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def build_docker(flow_path: Path, output: Path, force: bool = False, home: Path | None = None) -> BuildResult:
    """Write the Docker build context of the flow file ``flow_path`` into ``output``.

    ``home`` is the ``FLOWLINE_HOME`` whose connection store the flow's connections are read from
    (default: the usual one). Raises :class:`BuildError` for an invalid flow, an output folder that
    cannot be used (inside the flow, not empty without ``force``), a connection not stored here, a
    requirement that cannot be pinned, a file that cannot be read or written, or a Flowline that is
    not installed (nothing to put in the image).
    """
    try:
        importlib.metadata.distribution("flowline")  # its metadata gives the pins and the wheel
    except importlib.metadata.PackageNotFoundError as exc:
        raise BuildError("Flowline runs from a source tree without being installed, so there is no package to put "
                         "in the image; install it (`pip install -e server`) and build again.") from exc
    flow_path, output = flow_path.resolve(), output.resolve()
    flow, problems = validate_file(flow_path)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        listed = "\n".join(p.format(flow_path) for p in errors)
        raise BuildError(f"{listed}\nThe flow has {len(errors)} error(s) (listed above); fix them before building "
                         "(see `flowline flow validate`).")
    _check_output(output, flow.directory, force)
    conflicts = include_conflicts(flow)
    if conflicts:
        raise BuildError(" ".join(conflicts))
    try:
        files, variables = placeholder_files(connections_used(flow), ConnectionStore(home))
        pins = pinned_requirements(flow_requirements_file(flow.directory, _requirements_setting(flow_path)))
    except (PlaceholderError, PinError, UserFileError) as exc:
        raise BuildError(str(exc)) from exc
    image = image_name(flow.directory)
    try:
        if output.is_dir():
            _clear(output)
        output.mkdir(parents=True, exist_ok=True)
        write_snapshot(flow, output / "flow")
        connections = output / "connections"
        connections.mkdir()
        import yaml

        for file in files:
            (connections / file.file_name).write_text(yaml.safe_dump(file.data, sort_keys=False), encoding="utf-8")
        wheel = write_wheel(output / "wheels")
        (output / "requirements.txt").write_text(
            "# Made by `flowline flow build`: Flowline's dependencies as installed where it ran, then the flow's.\n"
            + "".join(f"{line}\n" for line in pins.lines), encoding="utf-8")
        (output / "Dockerfile").write_text(dockerfile(flow.directory.name, wheel.name, flow_path.name),
                                           encoding="utf-8")
        (output / "entrypoint.sh").write_text(entrypoint(files, variables, flow.directory.name), encoding="utf-8")
        (output / "entrypoint.sh").chmod(0o755)
        (output / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
        (output / "README.md").write_text(readme(flow, image, variables, pins.notes, flow_path.name),
                                          encoding="utf-8")
    except (OSError, shutil.Error) as exc:
        raise BuildError(f"Cannot write the build into '{output}': {exc}.") from exc
    return BuildResult(output, image, tuple(variables), pins.notes, tuple(local_address_warnings(files)))
