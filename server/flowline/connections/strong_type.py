"""Custom strong-typed connections: a tool's own connection class over a stored custom connection.

A tool package declares ``class MyConn(CustomStrongTypeConnection)`` with annotated fields
(``api_key: Secret``, ``api_base: str = "..."``) and annotates a tool parameter with it; the node names
a stored ``custom`` connection, and the tool receives it as a ``MyConn`` whose fields read the stored
secrets (fields annotated ``Secret``) and configs (the others). This mirrors promptflow 1.18.5, which
builds the class from the stored connection's configs and secrets when the parameter's annotation is a
subclass of ``CustomStrongTypeConnection``.
"""

from __future__ import annotations

from typing import Any

from flowline.connections.model import Connection, CustomConnection


class Secret(str):
    """Annotation of a connection field that is a secret (``api_key: Secret``)."""


_MISSING = object()


class MissingField(KeyError):
    """A field a strong-typed connection declares but the stored connection lacks. A ``KeyError``, as
    promptflow 1.18.5 raises; not an ``AttributeError``, which would hand the lookup to ``__getattr__``."""

    def __str__(self) -> str:
        return str(self.args[0])


def _is_secret(annotation: Any) -> bool:
    # Under `from __future__ import annotations` the annotation is the text the class wrote.
    if isinstance(annotation, str):
        return annotation == "Secret" or annotation.endswith(".Secret")
    return isinstance(annotation, type) and issubclass(annotation, Secret)


class _Field:
    """An annotated field of a strong-typed connection: read from (and written to) its secrets or configs."""

    def __init__(self, name: str, secret: bool, default: Any) -> None:
        self.name = name
        self.secret = secret
        self.default = default

    def __get__(self, owner: Connection | None, kind: type | None = None) -> Any:
        if owner is None:
            return self if self.default is _MISSING else self.default
        store = owner.secrets if self.secret else owner.configs
        if self.name in store:
            return store[self.name]
        if self.default is not _MISSING:
            # promptflow 1.18.5 raises KeyError here, ignoring the default the class declares.
            return self.default
        what = "secret" if self.secret else "config"
        raise MissingField(f"Connection '{owner.name}' has no {what} '{self.name}', which "
                             f"{type(owner).__name__} needs; add it to the stored connection "
                             f"(`flowline connection create --file <file>.yaml --name {owner.name}`).")

    def __set__(self, owner: Connection, value: Any) -> None:
        (owner.secrets if self.secret else owner.configs)[self.name] = value


class CustomStrongTypeConnection(CustomConnection):
    """Base class of a tool's own connection type; subclasses declare their fields as annotations."""

    def __init__(self, secrets: dict[str, str] | None = None, configs: dict[str, Any] | None = None,
                 name: str = "", **_: Any) -> None:
        super().__init__(name, configs, secrets)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for field, annotation in cls.__dict__.get("__annotations__", {}).items():
            setattr(cls, field, _Field(field, _is_secret(annotation), cls.__dict__.get(field, _MISSING)))

    @classmethod
    def from_connection(cls, connection: Connection) -> CustomStrongTypeConnection:
        """The stored ``connection`` seen as this class (its configs and secrets shared, not copied)."""
        made = cls(name=connection.name)
        made.configs, made.secrets = connection.configs, connection.secrets
        return made


def class_configs(kind: type[CustomStrongTypeConnection]) -> dict[str, str]:
    """The configs naming a strong-typed connection's class, which promptflow 1.18.5 adds to the custom
    connection it stores for one: ``{"promptflow.connection.custom_type": "MyConn",
    "promptflow.connection.module": "my_tools.connections"}``."""
    return {"promptflow.connection.custom_type": kind.__name__, "promptflow.connection.module": kind.__module__}


def as_annotated(connection: Connection, wanted: tuple[type, ...]) -> Connection:
    """``connection`` as the first strong-typed class of ``wanted`` when it is a stored custom connection
    that is none of ``wanted`` yet; otherwise ``connection`` as it is."""
    if isinstance(connection, wanted) or not isinstance(connection, CustomConnection):
        return connection
    for kind in wanted:
        if issubclass(kind, CustomStrongTypeConnection):
            return kind.from_connection(connection)
    return connection
