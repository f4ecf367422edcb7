"""Flow templates for ``flowline flow init``: standard, chat and evaluation."""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent
KINDS = ("standard", "chat", "evaluation")


def create_flow(target: Path, kind: str) -> list[Path]:
    """Copy template ``kind`` into ``target`` (which must not hold a flow yet); returns the files made."""
    if kind not in KINDS:
        raise ValueError(f"Unknown template '{kind}'; choose one of {', '.join(KINDS)}.")
    if (target / "flow.dag.yaml").exists():
        raise FileExistsError(f"'{target}' already has a flow.dag.yaml; choose another folder.")
    target.mkdir(parents=True, exist_ok=True)
    created = []
    for source in sorted((TEMPLATES / kind).iterdir()):
        if source.is_file():
            destination = target / source.name
            shutil.copyfile(source, destination)
            created.append(destination)
    return created
