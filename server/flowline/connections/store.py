"""The connection store under ``FLOWLINE_HOME/connections``: one JSON file per connection.

Secrets are encrypted at rest with a key kept in ``FLOWLINE_HOME/secret.key`` (mode 0600), so no
OS keyring is needed on a headless machine. A secret written as ``${env:NAME}`` is stored as that
text and read from the environment when a run loads the connection.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from flowline.connections.model import CLASSES, Connection
from flowline.home import flowline_home

# A value that is read from the environment when a connection loads: ``${env:NAME}``.
ENV_PLACEHOLDER = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class ConnectionStoreError(Exception):
    """A connection that cannot be stored or loaded; the message says which and why."""


class ConnectionStore:
    """Create, read, list and delete connections."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or flowline_home()
        self.folder = self.home / "connections"

    def _cipher(self) -> Any:
        from cryptography.fernet import Fernet

        key_file = self.home / "secret.key"
        if not key_file.exists():
            # Written whole under another name, then linked into place: of two processes storing their first
            # connection at once, one key wins and neither reads a half-written one.
            self.home.mkdir(parents=True, exist_ok=True)
            fd, draft = tempfile.mkstemp(dir=self.home, prefix=".secret.key.")  # mode 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(Fernet.generate_key())
                os.link(draft, key_file)
            except FileExistsError:
                pass  # another process made it first: its key is the key
            finally:
                os.unlink(draft)
        return Fernet(key_file.read_bytes().strip())

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConnectionStoreError(f"'{name}' is not a valid connection name (letters, digits, '_', '-', '.').")
        return self.folder / f"{name}.json"

    def names(self) -> list[str]:
        """Names of all stored connections (no decryption needed)."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def types(self) -> dict[str, str]:
        """Each stored connection's type by name (no decryption needed); unreadable files are left out."""
        types = {}
        for name in self.names():
            try:
                record = json.loads(self._path(name).read_text(encoding="utf-8"))
            except (OSError, ValueError, ConnectionStoreError):
                continue
            if isinstance(record, dict):
                types[name] = str(record.get("type", "custom"))
        return types

    def save(self, connection: Connection) -> None:
        """Store a connection (replacing one with the same name); secrets are encrypted."""
        cipher = self._cipher()
        record = {
            "name": connection.name,
            "type": connection.TYPE,
            "configs": connection.configs,
            "secrets": {k: cipher.encrypt(v.encode()).decode() for k, v in connection.secrets.items()},
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(connection.name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    def load(self, name: str, resolve_env: bool = True) -> Connection:
        """Read a connection; ``${env:NAME}`` secrets are read from the environment when resolving."""
        path = self._path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise ConnectionStoreError(f"Connection '{name}' does not exist (known: {known}). Create it with "
                                   f"`flowline connection create --file <file>.yaml --name {name}`.")
        record = json.loads(path.read_text(encoding="utf-8"))
        cipher = self._cipher()
        from cryptography.fernet import InvalidToken

        try:
            secrets = {k: cipher.decrypt(v.encode()).decode() for k, v in record.get("secrets", {}).items()}
        except InvalidToken as exc:
            raise ConnectionStoreError(f"Connection '{name}' cannot be decrypted with {self.home / 'secret.key'}; "
                                   "create it again.") from exc
        configs = dict(record.get("configs", {}))
        if resolve_env:
            secrets = {k: _resolve_env(name, k, v) for k, v in secrets.items()}
            configs = {k: _resolve_env(name, k, v) if isinstance(v, str) else v for k, v in configs.items()}
        cls = CLASSES.get(record.get("type", "custom"), CLASSES["custom"])
        return cls(record.get("name", name), configs, secrets)

    def delete(self, name: str) -> None:
        """Remove a connection."""
        path = self._path(name)
        if not path.is_file():
            raise ConnectionStoreError(f"Connection '{name}' does not exist.")
        path.unlink()


def _resolve_env(connection: str, field: str, value: str) -> str:
    match = ENV_PLACEHOLDER.match(value)
    if match is None:
        return value
    resolved = os.environ.get(match.group(1))
    if resolved is None:
        raise ConnectionStoreError(f"Connection '{connection}': field '{field}' reads environment variable "
                               f"{match.group(1)}, which is not set.")
    return resolved


class StoreNames:
    """The names of a store's connections, read again only when its folder changed: one ``stat`` per
    call, so the language server can ask on every validation and notice a connection created or
    deleted by any process (the CLI, the extension) at once."""

    def __init__(self, store: ConnectionStore) -> None:
        self._store = store
        self._stamp: int | None = -1
        self._names: frozenset[str] = frozenset()

    def names(self) -> frozenset[str]:
        """The current names."""
        try:
            stamp: int | None = self._store.folder.stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._names = frozenset(self._store.names())
            self._stamp = stamp
        return self._names
