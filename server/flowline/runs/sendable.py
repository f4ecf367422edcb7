"""What a worker process sends back of a line, and the line's error when that cannot be sent.

A worker process of ``--worker-processes`` runs a whole line; node outputs pass between its nodes
as the objects they are. The parent needs the line's records (JSON already) and, for the
aggregation it runs over all lines, the outputs of the per-line nodes the aggregation nodes read:
only those are pickled. promptflow 1.18.5 pickles every node output of the line, and an object
pickle refuses (a lock, an open file) crashes its worker: the line fails with a
``ProcessCrashError`` that does not say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from multiprocessing.reduction import ForkingPickler
from typing import Any

from flowline.engine.prepare import Executable

PICKLING_ERROR = "PicklingError"


def aggregation_readers(exe: Executable) -> dict[str, list[str]]:
    """Per-line node name → the aggregation nodes that read its output (inputs or ``activate``)."""
    line_nodes = {n.name for n in exe.line_nodes}
    readers: dict[str, list[str]] = {}
    for node in exe.aggregation_nodes:
        for value in node.references:
            ref = value.reference
            if ref is not None and ref.kind == "node" and ref.name in line_nodes \
                    and node.name not in readers.setdefault(ref.name, []):
                readers[ref.name].append(node.name)
    return readers


def _refusal(value: Any) -> Exception | None:
    try:
        ForkingPickler.dumps(value)  # as the worker's pipe pickles
    except Exception as exc:  # noqa: BLE001 - pickle raises TypeError, PicklingError, AttributeError...
        return exc
    return None


def unsendable_error(number: int, node_outputs: Mapping[str, Any], metrics: Mapping[str, Any],
                     readers: Mapping[str, list[str]], exc: Exception) -> dict[str, str]:
    """The error record of line ``number``, whose result pickle refused with ``exc``: it names the
    node output (or metric) pickle refuses and the aggregation nodes that read it."""
    for node, value in node_outputs.items():
        refusal = _refusal(value)
        if refusal is not None:
            names = readers.get(node, [])
            read = (f"aggregation node '{names[0]}' reads" if len(names) == 1 else
                    "aggregation nodes " + ", ".join(f"'{name}'" for name in names) + " read")
            return {"type": PICKLING_ERROR, "node": node,
                    "message": f"Line {number} cannot be sent back from its worker process: the output of node "
                               f"'{node}', which {read}, cannot be pickled ({type(refusal).__name__}: {refusal}). "
                               f"Return plain data from '{node}' (numbers, text, lists, dicts; not an object of a "
                               "class defined in a tool file, nor one holding a lock or an open file), or run "
                               "without --worker-processes."}
    for name, value in metrics.items():
        refusal = _refusal(value)
        if refusal is not None:
            return {"type": PICKLING_ERROR,
                    "message": f"Line {number} cannot be sent back from its worker process: metric '{name}' "
                               f"cannot be pickled ({type(refusal).__name__}: {refusal}). Log a number or text, "
                               "or run without --worker-processes."}
    return {"type": PICKLING_ERROR,
            "message": f"Line {number} cannot be sent back from its worker process ({type(exc).__name__}: {exc}); "
                       "run without --worker-processes."}
