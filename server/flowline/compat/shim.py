"""Makes ``import promptflow...`` resolve to Flowline's stand-ins inside a flow process.

Installed by the engine before tool files load (never at import of ``flowline``), so tool files
written for Prompt flow run unmodified without it — and without its seconds of import time.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

_PREFIX = "promptflow"
_TARGET = "flowline.compat.promptflow"


class _Alias(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        return None


class _PromptflowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        target_name = _TARGET + fullname[len(_PREFIX):]
        if importlib.util.find_spec(target_name) is None:
            raise ModuleNotFoundError(
                f"'{fullname}' is not available in Flowline; supported: promptflow, promptflow.core, "
                "promptflow.tracing. Use 'from flowline import tool' for new tools.", name=fullname)
        module = importlib.import_module(target_name)
        is_package = hasattr(module, "__path__")
        return importlib.util.spec_from_loader(fullname, _Alias(module), is_package=is_package)


def install() -> None:
    """Put the stand-in finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _PromptflowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PromptflowFinder())
