"""The secrets a flow can reach, to mask them in what reaches a person or a log: the HTTP answers and log of
``flowline flow serve``, and the failure lines and tool prints of the terminal chat."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from flowline.connections.model import MASK, Connection
from flowline.connections.store import ConnectionStore, ConnectionStoreError
from flowline.flow.model import Flow
from flowline.flow.references import CONNECTION_FIELD

# The shortest secret masked: shorter values ("1", "true") would mask ordinary words.
_MIN_SECRET = 4


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


def flow_connections(flow: Flow, environment: Mapping[str, str], store: ConnectionStore,
                     known: Mapping[str, Connection] | None = None) -> dict[str, Connection]:
    """Every stored connection ``flow`` names, by name: its nodes' connections, the literal node inputs that
    name one (a Python tool's connection parameter), and ``${conn.field}`` in its environment variables or in
    ``environment`` (those given for the run). ``known`` holds connections already loaded (not read again). A
    name that is no stored connection, or one that does not load, is left out."""
    known = known or {}
    found: dict[str, Connection] = {}
    for name in sorted(set(_connection_names(flow, environment)) & (set(store.names()) | set(known))):
        try:
            found[name] = known[name] if name in known else store.load(name)
        except ConnectionStoreError:
            continue  # a literal input that happens to be a connection's name, and that does not load
    return found


def flow_secrets(flow: Flow, environment: Mapping[str, str], store: ConnectionStore,
                 known: Mapping[str, Connection] | None = None) -> Secrets:
    """The secrets of every connection ``flow`` names (:func:`flow_connections`), and of those ``known``."""
    connections = {**(known or {}), **flow_connections(flow, environment, store, known)}
    return Secrets.of(v for c in connections.values() for v in c.secrets.values())


def _connection_names(flow: Flow, environment: Mapping[str, str]) -> Iterator[str]:
    for node in flow.nodes:
        if node.connection is not None and isinstance(node.connection.value, str):
            yield node.connection.value
        yield from (i.value.value for i in node.inputs if i.value.reference is None and isinstance(i.value.value, str))
    for text in [v.value for _, v in flow.environment_variables] + list(environment.values()):
        match = CONNECTION_FIELD.match(text) if isinstance(text, str) else None
        if match is not None:
            yield match.group(1)
