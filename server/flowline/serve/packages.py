"""What a build context's image installs: a pinned ``requirements.txt`` and a wheel of Flowline.

**Requirements.** Flowline's part is the whole closure of its ``Requires-Dist`` but its editor side (pygls,
lsprotocol, debugpy: serving never imports them; the wheel's METADATA leaves them out too) (markers read for Linux
and this Python, which the image runs), each distribution pinned ``name==version`` as
``importlib.metadata`` finds it installed, so the image runs what was tested here. The flow's lines (its
``requirements.txt``, or the file ``environment.python_requirements_txt`` names, as promptflow reads it)
follow: a pinned line is kept as written and replaces Flowline's pin of the same distribution (pip
refuses two pins of one name; the Dockerfile's ``pip check`` then says whether they fit together); an
unpinned one is pinned at the version installed here when that satisfies it, else kept as written and
reported. Lines for promptflow itself are left out and reported: Flowline runs the flow without it (its
import shim), and promptflow would add about 1.5 GB to the image. Option lines (``--index-url``...) are
kept.

**Flowline's wheel**, made here rather than copied source or ``pip wheel``: installing a pure
``py3-none-any`` wheel inside ``docker build`` needs no build backend (copied source would make pip fetch
setuptools into an isolated build environment) and no source tree (an installed, non-editable Flowline
has none), and the image runs exactly the code that built the context. The wheel follows PEP 427: the
``flowline`` package's files, and a ``.dist-info`` with the installed ``METADATA`` (so its
``Requires-Dist`` stay), ``entry_points.txt`` (the ``flowline`` command), ``WHEEL`` and ``RECORD``.
Entries are sorted and dated 1980-01-01, so the same code gives the same bytes (Docker's layer cache
then keeps the install step).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import flowline

# Flowline's editor side (the language server, the debugger): serving never imports them, so the image goes
# without them, in requirements.txt and in the wheel's Requires-Dist alike (the Dockerfile's `pip check`).
EDITOR_ONLY = frozenset({"pygls", "lsprotocol", "debugpy"})

_LEFT_OUT = {"promptflow", "promptflow-core", "promptflow-devkit", "promptflow-tools", "promptflow-tracing",
             "promptflow-azure", "flowline"}


class PinError(Exception):
    """A requirement that cannot be pinned; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Pins:
    """The lines of the context's ``requirements.txt`` and what the person building should hear."""

    lines: tuple[str, ...]
    notes: tuple[str, ...]


def _target_environment() -> dict[str, str]:
    """Marker values of the image: Linux, this Python (the Dockerfile's base has its minor version)."""
    env: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    env.update(sys_platform="linux", platform_system="Linux", os_name="posix", extra="")
    return env


def runtime_pins() -> dict[str, str]:
    """Canonical name → ``name==version`` for every distribution Flowline needs at run time (its
    ``Requires-Dist`` without extras, transitively), Flowline itself excluded.

    Raises :class:`PinError` naming a needed distribution that is not installed here.
    """
    env = _target_environment()
    pins: dict[str, str] = {}
    pending = [r for r in importlib.metadata.requires("flowline") or []
               if canonicalize_name(Requirement(r).name) not in EDITOR_ONLY]
    while pending:
        requirement = Requirement(pending.pop())
        key = canonicalize_name(requirement.name)
        if key in pins or (requirement.marker is not None and not requirement.marker.evaluate(env)):
            continue
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise PinError(f"Flowline needs '{requirement}' in the image, but it is not installed here to read its "
                           f"version from; install it (`pip install '{requirement}'`) and build again.") from exc
        pins[key] = f"{distribution.metadata['Name']}=={distribution.version}"
        pending.extend(distribution.requires or [])
    return pins


def flow_requirements_file(flow_dir: Path, named: str | None) -> Path | None:
    """The flow's requirements file: ``named`` (``environment.python_requirements_txt``, relative to the
    flow folder) when given, else ``requirements.txt`` when the folder has one."""
    path = flow_dir / (named or "requirements.txt")
    return path if named or path.is_file() else None


def pinned_requirements(flow_file: Path | None) -> Pins:
    """Flowline's runtime pins merged with the lines of ``flow_file`` (see the module's docstring).

    Raises :class:`PinError` when a runtime distribution is missing here, when ``flow_file`` cannot be
    read, or when one of its lines is no requirement pip would take.
    """
    pins = runtime_pins()
    if flow_file is None:
        return Pins(tuple(sorted(pins.values(), key=str.lower)), ())
    try:
        text = flow_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PinError(f"Cannot read the flow's requirements file '{flow_file}': {exc}.") from exc
    own: list[str] = []
    notes: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            own.append(line)
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise PinError(f"{flow_file}:{number}: '{line}' is not a requirement pip reads ({exc}).") from exc
        key = canonicalize_name(requirement.name)
        if key in _LEFT_OUT:
            notes.append(f"left out '{line}' of {flow_file.name}: the image runs the flow with Flowline alone")
            continue
        pins.pop(key, None)
        own.append(_pinned(requirement, line, flow_file.name, notes))
    return Pins(tuple(sorted(pins.values(), key=str.lower)) + tuple(own), tuple(notes))


def _pinned(requirement: Requirement, line: str, file_name: str, notes: list[str]) -> str:
    """``line`` when it pins a version already; else pinned at the installed version that satisfies it."""
    if requirement.url or any(s.operator in ("==", "===") for s in requirement.specifier):
        return line
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        notes.append(f"'{line}' of {file_name} is not pinned: it is not installed here to read a version from")
        return line
    if not requirement.specifier.contains(version, prereleases=True):
        notes.append(f"'{line}' of {file_name} is not pinned: {requirement.name} {version} installed here does not "
                     "satisfy it")
        return line
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras}=={version}{marker}"


_DATE = (1980, 1, 1, 0, 0, 0)
_WHEEL = "Wheel-Version: 1.0\nGenerator: flowline flow build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _package_files(package: Path) -> list[Path]:
    """The package's files, without byte code and hidden local state (``.mypy_cache`` and the like). Linked
    folders are followed: in a source tree ``flowline/schemas`` is a link to the repository's schemas."""
    files = []
    for folder, dirs, names in os.walk(package, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        files += [Path(folder, n) for n in names if not n.endswith(".pyc") and not n.startswith(".")]
    return sorted(files)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _serving_metadata(text: str) -> str:
    """The installed METADATA without the ``Requires-Dist`` lines of :data:`EDITOR_ONLY` distributions."""
    kept = []
    for line in text.split("\n"):
        if line.startswith("Requires-Dist:"):
            try:
                if canonicalize_name(Requirement(line.partition(":")[2].strip()).name) in EDITOR_ONLY:
                    continue
            except InvalidRequirement:
                pass
        kept.append(line)
    return "\n".join(kept)


def write_wheel(folder: Path) -> Path:
    """Write ``flowline-<version>-py3-none-any.whl`` into ``folder`` (made when missing); returns its path.

    Raises ``importlib.metadata.PackageNotFoundError`` when Flowline runs without being installed
    (from a bare source tree), as there is no metadata to put in the wheel.
    """
    distribution = importlib.metadata.distribution("flowline")
    version = distribution.version
    info = f"flowline-{version}.dist-info"
    contents: list[tuple[str, bytes]] = []
    package = Path(flowline.__file__).parent
    for path in _package_files(package):
        contents.append((f"flowline/{path.relative_to(package).as_posix()}", path.read_bytes()))
    contents.append((f"{info}/METADATA", _serving_metadata(distribution.read_text("METADATA") or "").encode()))
    entry_points = distribution.read_text("entry_points.txt")
    if entry_points:
        contents.append((f"{info}/entry_points.txt", entry_points.encode()))
    contents.append((f"{info}/WHEEL", _WHEEL.encode()))
    record = [_record_line(name, data) for name, data in contents] + [f"{info}/RECORD,,"]
    contents.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"flowline-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents:
            entry = zipfile.ZipInfo(name, _DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return wheel
