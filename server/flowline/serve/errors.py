"""Errors a served flow answers with: one body shape, ``{"error": {"code", "message"}}``, and no secret in it
(``connections/secrets.py`` masks them).

promptflow 1.18.5 answers a bad request and a failing node alike with 400 ``{"error": {"code": "UserError",
"message": ...}}`` (observed); Flowline keeps the body's shape and gives each case its own status and code,
so a caller can tell its own mistake (4xx) from the flow's (5xx).
"""

from __future__ import annotations

from typing import Any


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
