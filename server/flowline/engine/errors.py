"""Errors of a run, described for users: exception type, message, and the user's own frames."""

from __future__ import annotations

import traceback
from pathlib import Path

from flowline.engine.events import ErrorInfo


class FlowRunError(Exception):
    """A problem with how a flow is run (inputs, variants, node names): exit code 2, no traceback."""


class NodeError(Exception):
    """A node failed; ``info`` points at the user's code."""

    def __init__(self, node: str, info: ErrorInfo) -> None:
        super().__init__(f"Node '{node}' failed: {info.type}: {info.message}")
        self.node = node
        self.info = info

    def load_failure(self) -> str:
        """One line for a tool that failed to load (import error, ``sys.exit`` at import):
        ``Node 'n' could not load its tool: NameError: name 'X' is not defined (/flow/t.py:3)``.
        promptflow 1.18.5 says ``Failed to load python module from file '<file>': (NameError) ...``."""
        where = f" ({self.info.file}:{self.info.line})" if self.info.file else ""
        return f"Node '{self.node}' could not load its tool: {self.info.type}: {self.info.message}{where}"


class NodeSetupError(NodeError):
    """A node that cannot be set up to run, for a reason the message states whole (its connection has a
    type its tool cannot use, the LLM client cannot be built from it): ``flow test`` refuses it like a bad
    request (exit code 2); a batch run is stored as Failed with the message, like a tool that cannot load.
    promptflow 1.18.5 fails such a node when it loads the tools: ``ResolveToolError: Tool load failed in
    'a': (InvalidConnectionType) Connection type CustomConnection is not supported for LLM.``"""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(node, ErrorInfo("NodeSetupError", message))
        self.args = (message,)

    def load_failure(self) -> str:
        """The message, which names the node."""
        return self.info.message


def _is_user_frame(filename: str, roots: tuple[Path, ...], packages: tuple[Path, ...] = ()) -> bool:
    if filename.startswith("<"):  # "<frozen importlib._bootstrap>", "<string>": no file of the user's
        return False
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    if any(path == root or root in path.parents for root in packages):
        return True
    return any(path == root or root in path.parents for root in roots) and "site-packages" not in path.parts


def describe(exc: BaseException, roots: tuple[Path, ...], packages: tuple[Path, ...] = ()) -> ErrorInfo:
    """An :class:`ErrorInfo` for an exception raised by user code under ``roots`` (outside ``site-packages``)
    or in ``packages`` (the installed package of a package tool, wherever it is installed)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_user_frame(f.filename, roots, packages)]
    if isinstance(exc, SyntaxError) and exc.filename and _is_user_frame(exc.filename, roots, packages):
        file, line = exc.filename, exc.lineno
    elif frames:
        file, line = frames[-1].filename, frames[-1].lineno
    else:
        file, line = None, None
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if frames:
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text
    message = str(exc) or type(exc).__name__
    return ErrorInfo(type(exc).__name__, message, file, line, text)
