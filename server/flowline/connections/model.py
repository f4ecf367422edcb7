"""Connection objects: configs in the clear, secrets kept out of every printed form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MASK = "******"


class Connection:
    """A named set of configs and secrets. ``repr``, ``str`` and JSON forms mask the secrets."""

    __flowline_connection__ = True
    TYPE = "custom"
    SECRET_FIELDS: tuple[str, ...] = ()
    FIELDS: tuple[str, ...] = ()
    MAPPING: tuple[tuple[str, Any], ...] = ()
    """The fields promptflow 1.18.5's class of this type gives as a mapping, in its order, with the value
    an unset one has there (``dict(OpenAIConnection)`` holds ``organization: None``)."""

    def __init__(self, name: str, configs: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
                 **fields: Any) -> None:
        """``fields`` are the type's named fields, as promptflow's classes take them
        (``AzureOpenAIConnection(name="azure", api_key="...", api_base="https://...")``): those in
        :attr:`SECRET_FIELDS` are secrets, the others configs; a field left ``None`` is not set."""
        self.name = name
        self.configs: dict[str, Any] = dict(configs or {})
        self.secrets: dict[str, str] = dict(secrets or {})
        for key, value in fields.items():
            if value is not None:
                (self.secrets if key in self.SECRET_FIELDS else self.configs)[key] = value

    def __getattr__(self, key: str) -> Any:
        # Only reached when normal lookup fails: expose fields as attributes, as Prompt flow's classes do.
        if key.startswith("__"):
            raise AttributeError(key)
        for store in (self.__dict__.get("secrets", {}), self.__dict__.get("configs", {})):
            if key in store:
                return store[key]
        if key in dict(self.MAPPING):
            return dict(self.MAPPING)[key]
        raise AttributeError(f"Connection '{self.__dict__.get('name')}' has no field '{key}'.")

    def __getitem__(self, key: str) -> Any:
        for store in (self.secrets, self.configs):
            if key in store:
                return store[key]
        if key in dict(self.MAPPING):
            return dict(self.MAPPING)[key]
        # promptflow 1.18.5's wording: KeyError "Key 'x' not found in connection 'c'."
        raise KeyError(f"Key {key!r} not found in connection {self.name!r}.")

    # A connection reads like a mapping of its fields, configs then secrets: promptflow 1.18.5 gives
    # ``keys()`` and ``[key]``, so ``dict(conn)`` and ``conn["key"]`` work there. ``get``, ``in`` and
    # iteration are additions (there they raise: it has no ``get``, and ``in`` asks for ``conn[0]``).
    def keys(self) -> list[str]:
        """The field names (``dict(connection)`` holds them): those of :attr:`MAPPING`, set or not, then the
        other configs, then the other secrets."""
        named = [name for name, _ in self.MAPPING]
        return [*named, *(k for k in self.configs if k not in named),
                *(k for k in self.secrets if k not in self.configs and k not in named)]

    def get(self, key: str, default: Any = None) -> Any:
        """A field's value (secret or config), or ``default``."""
        return self[key] if key in self else default

    def __contains__(self, key: object) -> bool:
        return key in self.secrets or key in self.configs or any(key == name for name, _ in self.MAPPING)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def masked(self) -> dict[str, Any]:
        """The connection as JSON with every secret replaced by ``******``."""
        return {"name": self.name, "type": self.TYPE, "configs": dict(self.configs),
                "secrets": {k: MASK for k in self.secrets}}

    def __json__(self) -> dict[str, Any]:
        return self.masked()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, configs={self.configs!r}, secrets=<masked>)"

    __str__ = __repr__


class CustomConnection(Connection):
    """Any configs and secrets (``type: custom``)."""

    TYPE = "custom"


class OpenAIConnection(Connection):
    """OpenAI or any OpenAI-compatible server (``type: open_ai``): api_key, base_url, organization."""

    TYPE = "open_ai"
    SECRET_FIELDS = ("api_key",)
    FIELDS = ("api_key", "base_url", "organization")
    MAPPING = (("organization", None), ("base_url", None), ("api_key", None))


class AzureOpenAIConnection(Connection):
    """Azure OpenAI (``type: azure_open_ai``): api_base, api_key, api_version, api_type."""

    TYPE = "azure_open_ai"
    SECRET_FIELDS = ("api_key",)
    FIELDS = ("api_key", "api_base", "api_version", "api_type")
    MAPPING = (("api_base", None), ("api_type", "azure"), ("api_version", "2024-02-01"), ("auth_mode", "key"),
               ("resource_id", None), ("api_key", None))


class SerpConnection(Connection):
    """SerpApi (``type: serp``): api_key, as promptflow's ``SerpConnection``, which the SerpApi search tool takes."""

    TYPE = "serp"
    SECRET_FIELDS = ("api_key",)
    FIELDS = ("api_key",)


CLASSES: dict[str, type[Connection]] = {c.TYPE: c for c in (CustomConnection, OpenAIConnection,
                                                           AzureOpenAIConnection, SerpConnection)}
TYPE_NAMES = tuple(CLASSES)
