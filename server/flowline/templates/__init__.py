"""Flow templates for ``flowline flow init``: standard, chat and evaluation.

A template's LLM nodes are written ``connection: local``; the flow made from it names a stored
connection instead (``local`` when stored, else the first stored one). With none stored the name
stays, and a comment above it says how to create it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent
KINDS = ("standard", "chat", "evaluation")
DEFAULT_CONNECTION = "local"
_CONNECTION_LINE = re.compile(rf"^(?P<indent>[ \t]*)connection: {DEFAULT_CONNECTION}$", re.MULTILINE)
_MISSING = (f"Connection '{DEFAULT_CONNECTION}' is not stored yet. Create it with one of:",
            "  flowline local-llm start    (serves the local model as 'local')",
            "  flowline connection create --file <file>.yaml",
            "  VS Code: 'Flowline: Create Connection...'",
            "or name a stored connection here (flowline connection list).")
"""The comment written above the connection when none is stored."""


@dataclass(frozen=True)
class CreatedFlow:
    """What ``create_flow`` made: its files and the connection its LLM nodes name (``None``: it has none)."""

    files: list[Path]
    connection: str | None
    connection_stored: bool


def pick_connection(stored: Sequence[str]) -> str | None:
    """The connection a new flow's LLM nodes use: ``local`` when stored, else the first stored name
    (alphabetically), else ``None``."""
    if DEFAULT_CONNECTION in stored:
        return DEFAULT_CONNECTION
    return min(stored) if stored else None


def missing_connection_note(name: str) -> str:
    """How to get connection ``name`` when it is not stored, in one sentence (what ``flow init`` tells)."""
    local = " (`flowline local-llm start` creates 'local')" if name == DEFAULT_CONNECTION else ""
    return (f"Connection '{name}' is not stored yet: create it with `flowline connection create --file "
            f"<file>.yaml`{local}, or in VS Code with 'Flowline: Create Connection...'.")


def _name_connection(text: str, stored: Sequence[str]) -> tuple[str, str | None, bool]:
    """A template's flow text with its LLM nodes' connection chosen; (text, connection, stored)."""
    if _CONNECTION_LINE.search(text) is None:
        return text, None, False
    chosen = pick_connection(stored)
    if chosen is not None:
        return _CONNECTION_LINE.sub(lambda m: f"{m['indent']}connection: {chosen}", text), chosen, True
    return (_CONNECTION_LINE.sub(lambda m: "".join(f"{m['indent']}# {line}\n" for line in _MISSING) + m[0], text),
            DEFAULT_CONNECTION, False)


def create_flow(target: Path, kind: str, connections: Sequence[str] = ()) -> CreatedFlow:
    """Copy template ``kind`` into ``target`` (which must not hold a flow yet); its LLM nodes use one of
    the stored ``connections`` (see ``pick_connection``).

    Raises ``ValueError`` for an unknown kind and ``FileExistsError`` when ``target`` has a flow.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown template '{kind}'; choose one of {', '.join(KINDS)}.")
    if (target / "flow.dag.yaml").exists():
        raise FileExistsError(f"'{target}' already has a flow.dag.yaml; choose another folder.")
    target.mkdir(parents=True, exist_ok=True)
    created, connection, stored = [], None, False
    for source in sorted((TEMPLATES / kind).iterdir()):
        if not source.is_file():
            continue
        destination = target / source.name
        if source.name == "flow.dag.yaml":
            text, connection, stored = _name_connection(source.read_text(encoding="utf-8"), connections)
            destination.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(source, destination)
        created.append(destination)
    return CreatedFlow(created, connection, stored)
