"""Errors a served flow answers with: one body shape, ``{"error": {"code", "message"}}``, and no secret in it.

promptflow 1.18.5 answers a bad request and a failing node alike with 400 ``{"error": {"code": "UserError",
"message": ...}}`` (observed); Flowline keeps the body's shape and gives each case its own status and code,
so a caller can tell its own mistake (4xx) from the flow's (5xx).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowline.connections.model import MASK

# The shortest secret masked: shorter values ("1", "true") would mask ordinary words.
_MIN_SECRET = 4


class ApiError(Exception):
    """An answer other than 200: HTTP ``status``, a short ``code`` and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class Secrets:
    """The secret values a flow can reach (its connections' secrets); :meth:`mask` hides them in text."""

    values: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[str]) -> Secrets:
        """The values worth masking, longest first (so a secret that contains another is hidden whole)."""
        kept = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET}
        return cls(tuple(sorted(kept, key=len, reverse=True)))

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``******``."""
        for value in self.values:
            text = text.replace(value, MASK)
        return text
