"""The ``${...}`` reference grammar of flow.dag.yaml, as Prompt flow reads it.

Only a whole string is a reference: ``"${inputs.x}"`` is, ``"a ${inputs.x}"`` is a literal.
``${inputs.x}`` (or the older ``${flow.x}``) names a flow input — everything after the prefix
is the input's name. Anything else names a node: ``${n}`` is ``${n.output}``; ``${n.output.a.b}``
walks into the output with the property path ``a.b``, where each step is a word, ``[0]`` or
``['k']``. ``${n.output[0]}`` is *not* an index: its section is ``output[0]``, which no node has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

INPUT_PREFIXES = ("flow.", "inputs.")
_PROPERTY_STEP = re.compile(r"(\w+)|(\['.*?'\])|(\[\d+\])")
# An environment variable's value that reads a connection's field: a whole `${connection.field}`.
CONNECTION_FIELD = re.compile(r"^\$\{([^.{}\s]+)\.([^.{}\s]+)\}$")



class Key(str):
    """A bracketed key step (``['k']``): always a subscription, never an attribute."""


Step = str | int


@dataclass(frozen=True)
class Reference:
    """A parsed ``${...}``; ``name_offset`` is where the name starts inside the string."""

    kind: Literal["input", "node"]
    name: str
    section: str
    path: str
    name_offset: int

    @property
    def steps(self) -> tuple[Step, ...]:
        """The property path as keys/attributes (str) and indexes (int)."""
        return property_steps(self.path)

    def text(self) -> str:
        """The reference written back in its canonical form."""
        if self.kind == "input":
            return "${inputs." + self.name + "}"
        tail = f".{self.path}" if self.path else ""
        return "${" + f"{self.name}.{self.section}{tail}" + "}"


def parse_reference(value: Any) -> Reference | None:
    """The reference a YAML value holds, or ``None`` for a literal."""
    if not isinstance(value, str) or len(value) <= 2 or not value.startswith("${") or not value.endswith("}"):
        return None
    inner = value[2:-1]
    for prefix in INPUT_PREFIXES:
        if inner.startswith(prefix):
            return Reference("input", inner[len(prefix):], "", "", 2 + len(prefix))
    if "." not in inner:
        return Reference("node", inner, "output", "", 2)
    node, port = inner.split(".", 1)
    section, _, prop = port.partition(".")
    return Reference("node", node, section, prop, 2)


def property_steps(prop: str) -> tuple[Step, ...]:
    """Split a property path the way Prompt flow does (characters outside steps are skipped)."""
    steps: list[Step] = []
    for word, quoted, index in _PROPERTY_STEP.findall(prop):
        if word:
            steps.append(word)
        elif quoted:
            steps.append(Key(quoted[2:-2]))
        else:
            steps.append(int(index[1:-1]))
    return tuple(steps)


def skipped_characters(prop: str) -> str:
    """The characters of a property path that no step covers (Prompt flow silently ignores them)."""
    leftover = _PROPERTY_STEP.sub("", prop)
    return leftover.replace(".", "")


class PropertyError(LookupError):
    """A property path step that does not exist on the value."""


def walk(value: Any, steps: tuple[Step, ...]) -> Any:
    """Follow a property path: ``[i]``/``['k']`` subscript, a word is a dict key or an attribute."""
    for step in steps:
        try:
            if isinstance(step, (int, Key)) or isinstance(value, dict):
                value = value[step]
            else:
                value = getattr(value, step)
        except (KeyError, IndexError, AttributeError, TypeError) as exc:
            raise PropertyError(step) from exc
    return value
