"""Recorded LLM calls for deterministic runs: ``FLOWLINE_LLM_CACHE=record|replay`` (or ``--llm-cache``).

Each request is keyed by a hash of its canonical JSON (API, model, messages or prompt, and the
parameters; never the endpoint or key) and stored as ``.flowline/llm-cache/<hash>.json`` in the
flow folder. ``replay`` never touches the network; a request that was not recorded is an error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODES = ("record", "replay")


def request_key(request: dict[str, Any]) -> str:
    """A stable hash of a request."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class LLMCache:
    """A folder of recorded responses, used in one mode."""

    folder: Path
    mode: str

    def path(self, request: dict[str, Any]) -> Path:
        """Where the response to this request is kept."""
        return self.folder / f"{request_key(request)}.json"

    def load(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded response, or ``None``."""
        try:
            record: dict[str, Any] = json.loads(self.path(request).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        response: dict[str, Any] = record["response"]
        return response

    def save(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Record a response (request included, for people reading the folder)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"request": request, "response": response}
        self.path(request).write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n",
                                      encoding="utf-8")


def cache_for(flow_dir: Path, mode: str | None) -> LLMCache | None:
    """The cache of a flow folder in ``mode``, or ``None`` when calls go to the model as usual."""
    if not mode:
        return None
    if mode not in MODES:
        raise ValueError(f"LLM cache mode must be 'record' or 'replay', not '{mode}'.")
    return LLMCache(flow_dir / ".flowline" / "llm-cache", mode)
