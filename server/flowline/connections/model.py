"""Connection objects: configs in the clear, secrets kept out of every printed form."""

from __future__ import annotations

from typing import Any

MASK = "******"


class Connection:
    """A named set of configs and secrets. ``repr``, ``str`` and JSON forms mask the secrets."""

    __flowline_connection__ = True
    TYPE = "custom"
    SECRET_FIELDS: tuple[str, ...] = ()
    FIELDS: tuple[str, ...] = ()

    def __init__(self, name: str, configs: dict[str, Any] | None = None, secrets: dict[str, str] | None = None) -> None:
        self.name = name
        self.configs: dict[str, Any] = dict(configs or {})
        self.secrets: dict[str, str] = dict(secrets or {})

    def __getattr__(self, key: str) -> Any:
        # Only reached when normal lookup fails: expose fields as attributes, as Prompt flow's classes do.
        if key.startswith("__"):
            raise AttributeError(key)
        for store in (self.__dict__.get("secrets", {}), self.__dict__.get("configs", {})):
            if key in store:
                return store[key]
        raise AttributeError(f"Connection '{self.__dict__.get('name')}' has no field '{key}'.")

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError as exc:
            raise KeyError(key) from exc

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


class AzureOpenAIConnection(Connection):
    """Azure OpenAI (``type: azure_open_ai``): api_base, api_key, api_version, api_type."""

    TYPE = "azure_open_ai"
    SECRET_FIELDS = ("api_key",)
    FIELDS = ("api_key", "api_base", "api_version", "api_type")


CLASSES: dict[str, type[Connection]] = {c.TYPE: c for c in (CustomConnection, OpenAIConnection,
                                                           AzureOpenAIConnection)}
TYPE_NAMES = tuple(CLASSES)
