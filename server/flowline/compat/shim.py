"""Makes ``import promptflow...`` resolve to Flowline's stand-ins inside a flow process.

Installed by the engine before tool files load (never at import of ``flowline``), so tool files
written for Prompt flow run unmodified without it — and without its seconds of import time.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pkgutil
import re
import sys
from types import ModuleType
from typing import Any

_PREFIX = "promptflow"
_TARGET = "flowline.compat.promptflow"
_ADVICE = "see README, 'Moving from Prompt flow'; new tools can use 'from flowline import tool'"


# Private modules that tool files (``_core``) and scripts (``_sdk._errors``: RunNotFoundError) import.
_PRIVATE_SERVED = frozenset({"._core", "._sdk", "._sdk._errors"})


def served_modules() -> list[str]:
    """The ``promptflow`` modules the stand-in serves, by their promptflow names (read from the files,
    nothing imported)."""
    package = importlib.import_module(_TARGET)
    names = (m.name[len(_TARGET):] for m in pkgutil.walk_packages(package.__path__, _TARGET + "."))
    return [_PREFIX] + sorted(_PREFIX + n for n in names if not n.rpartition(".")[2].startswith("_") or
                              n in _PRIVATE_SERVED)


# The module is named as Python knows it: the stand-in's own name (the alias is the same module object).
_CANNOT_IMPORT = re.compile(r"^cannot import name '([^']+)' from '(?:flowline\.compat\.)?(promptflow(?:\.[\w.]+)?)'")


def unsupported_import(exc: BaseException) -> str | None:
    """One line for an import of promptflow that the stand-in cannot serve (``from promptflow.x import
    Missing``: which names that module has; a module it lacks: which modules it serves), or ``None`` when
    ``exc`` is about something else. The caller adds where the import is (file:line)."""
    if not isinstance(exc, ImportError):
        return None
    match = _CANNOT_IMPORT.match(str(exc))
    if match is not None:
        name, module = match.groups()
        return _not_available(name, sys.modules.get(_TARGET + module[len(_PREFIX):]), module)
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == _PREFIX:
        return str(exc)
    return None


def _not_available(name: str, target: ModuleType | None, module: str) -> str:
    """The line for symbol ``name`` that stand-in ``target`` (for ``module``) lacks, listing its public API
    (its ``__all__``, which every stand-in module defines)."""
    names = sorted(getattr(target, "__all__", None) or ())
    return (f"'{name}' of {module} is not available in Flowline (its stand-in for {module} has "
            f"{', '.join(names) or 'nothing else'}); {_ADVICE}.")


def missing_attribute(stand_in: str, name: str) -> AttributeError:
    """What a stand-in module's ``__getattr__`` raises for a name it lacks (``promptflow.load_flow``): the
    same line as for ``from promptflow import load_flow`` (dunder names get Python's own message, which
    ``hasattr`` checks rely on). ``stand_in`` is the module's ``__name__``."""
    if name.startswith("__"):
        return AttributeError(f"module {stand_in!r} has no attribute {name!r}")
    module = _PREFIX + stand_in[len(_TARGET):]
    return AttributeError(_not_available(name, sys.modules.get(stand_in), module))


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
                f"'{fullname}' is not available in Flowline (it serves {', '.join(served_modules())}); "
                f"{_ADVICE}.", name=fullname)
        module = importlib.import_module(target_name)
        is_package = hasattr(module, "__path__")
        return importlib.util.spec_from_loader(fullname, _Alias(module), is_package=is_package)


def install() -> None:
    """Put the stand-in finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _PromptflowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PromptflowFinder())
