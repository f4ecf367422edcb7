"""promptflow 1.18.5 in its own venv, for side-by-side benchmarks and reference outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VERSION = "1.18.5"
VENV = Path(os.environ.get("FLOWLINE_PF_VENV", Path.home() / ".cache" / "flowline" / "pf-venv"))


def environment() -> dict[str, str]:
    """Environment for running promptflow headless: no telemetry, no tracing."""
    env = dict(os.environ)
    env.update({"PF_DISABLE_TELEMETRY": "true", "PF_DISABLE_TRACING": "true"})
    return env


def ensure() -> Path:
    """Create the venv and install promptflow (and keyrings.alt) once; returns the venv's bin folder."""
    bin_dir = VENV / "bin"
    probe = [str(bin_dir / "python"), "-c", "import importlib.metadata as m; print(m.version('promptflow'))"]
    try:
        if subprocess.run(probe, capture_output=True, text=True).stdout.strip() == VERSION:
            return bin_dir
    except OSError:
        pass
    print(f"installing promptflow {VERSION} into {VENV} (once)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", f"promptflow=={VERSION}",
                    "promptflow-tools", "keyrings.alt"], check=True)
    return bin_dir


def ensure_module(bin_dir: Path, module: str, requirement: str) -> None:
    """Install ``requirement`` into promptflow's venv once, when ``module`` cannot be imported there.

    promptflow leaves some engines' servers to the user: `pf flow serve --engine fastapi` needs uvicorn.
    """
    probe = subprocess.run([str(bin_dir / "python"), "-c", f"import {module}"], capture_output=True)
    if probe.returncode != 0:
        print(f"installing {requirement} into {VENV} (once)...", file=sys.stderr)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", requirement], check=True)
