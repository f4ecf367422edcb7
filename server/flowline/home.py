"""Where Flowline keeps its state: ``FLOWLINE_HOME`` (default ``~/.flowline``)."""

from __future__ import annotations

import os
from pathlib import Path


def flowline_home() -> Path:
    """The folder holding connections, runs and the local model's state."""
    return Path(os.environ.get("FLOWLINE_HOME") or Path.home() / ".flowline")
