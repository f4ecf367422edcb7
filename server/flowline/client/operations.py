"""The SDK's operations on runs, flows and connections (``Client().runs``, ``.flows``, ``.connections``),
thin over the run store, validation and the connection store. promptflow's ``RunOperations``,
``FlowOperations`` and ``ConnectionOperations``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowline.client.errors import (
    ConnectionNotFoundError,
    FlowValidationError,
    ProblemInfo,
    RequestError,
    RunNotFoundError,
    problem_infos,
)
from flowline.client.run import Run

if TYPE_CHECKING:
    from flowline.connections.model import Connection
    from flowline.runs.store import RunRecord, RunStore


def run_name(run: str | Run) -> str:
    """A run's name, from its name or its :class:`Run`; ``TypeError`` for anything else."""
    if isinstance(run, Run):
        return run.name
    if isinstance(run, str):
        return run
    raise TypeError(f"A run is named by its name (str) or given as a Run, not {type(run).__name__}.")


class RunOperations:
    """The stored runs: those of ``flowline run`` and of :meth:`Client.run` alike."""

    def _store(self) -> RunStore:
        from flowline.runs.store import RunStore

        return RunStore()

    def record(self, run: str | Run) -> RunRecord:
        """The store's record of a run; :class:`RunNotFoundError` (a ``ValueError``) when there is none."""
        from flowline.runs.store import RunStoreError

        try:
            return self._store().get(run_name(run))
        except RunStoreError as exc:
            raise RunNotFoundError(str(exc)) from exc

    def exists(self, run: str | Run) -> bool:
        """Whether a run of that name is stored."""
        try:
            self.record(run)
        except RunNotFoundError:
            return False
        return True

    def get(self, run: str | Run) -> Run:
        """A run by name (read afresh: a :class:`Run` is a snapshot). promptflow's ``runs.get``;
        :class:`RunNotFoundError` (a ``ValueError``) when there is no such run."""
        return Run.from_record(self.record(run))

    def list(self, max_results: int | None = 50, *, archived_only: bool = False, include_archived: bool = False,
             **kwargs: Any) -> list[Run]:
        """Runs, newest first: the ``max_results`` latest (``None``: all) of those not archived, of the archived
        only, or of all. promptflow's ``runs.list`` (its ``list_view_type`` is taken too:
        ``ACTIVE_ONLY``, ``ARCHIVED_ONLY``, ``ALL``). Raises ``TypeError`` for any other keyword argument."""
        view = kwargs.pop("list_view_type", None)
        if kwargs:
            raise TypeError(f"runs.list() got an unexpected keyword argument '{next(iter(kwargs))}'")
        view_name = str(getattr(view, "name", view or "")).upper()
        archived: bool | None = False
        if archived_only or view_name == "ARCHIVED_ONLY":
            archived = True
        elif include_archived or view_name == "ALL":
            archived = None
        return [Run.from_record(r) for r in self._store().list(max_results, archived=archived)]

    def _label(self, run: str | Run, **labels: Any) -> Run:
        from flowline.runs.store import RunStoreError

        try:
            return Run.from_record(self._store().label(run_name(run), **labels))
        except RunStoreError as exc:
            raise RunNotFoundError(str(exc)) from exc

    def archive(self, run: str | Run) -> Run:
        """Hide a run from ``list`` (its folder stays; :meth:`restore` brings it back) and return it. promptflow's
        ``runs.archive``. Raises :class:`RunNotFoundError` (a ``ValueError``) for a run that does not exist,
        ``TypeError`` for a ``run`` that is neither a name nor a :class:`Run`."""
        return self._label(run, archived=True)

    def restore(self, run: str | Run) -> Run:
        """Bring an archived run back into ``list`` and return it. promptflow's ``runs.restore``. Raises
        :class:`RunNotFoundError` (a ``ValueError``) for a run that does not exist, ``TypeError`` for a ``run``
        that is neither a name nor a :class:`Run`."""
        return self._label(run, archived=False)

    def update(self, run: str | Run, display_name: str | None = None, tags: dict[str, str] | None = None,
               **kwargs: Any) -> Run:
        """Set a run's display name and replace its tags with ``tags`` (promptflow 1.18.5 replaces them too).
        promptflow's ``runs.update`` (its ``description`` is not kept here: warned and ignored). Raises
        :class:`RunNotFoundError` (a ``ValueError``) for a run that does not exist, ``TypeError`` for a ``run``
        that is neither a name nor a :class:`Run` or for any other keyword argument."""
        if "description" in kwargs:
            import warnings

            kwargs.pop("description")
            warnings.warn("runs.update(): 'description' is not kept by Flowline and is ignored.", UserWarning,
                          stacklevel=2)
        if kwargs:
            raise TypeError(f"runs.update() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return self._label(run, display_name=display_name,
                           tags={str(k): str(v) for k, v in tags.items()} if tags is not None else None)


class FlowOperations:
    """Flows on disk."""

    def validate(self, flow: str | Path, node: str | None = None) -> list[ProblemInfo]:
        """Every problem of a flow (errors and warnings) with its file, line and column (1-based), as
        ``flowline flow validate`` lists them; an empty list for a flow without any. With ``node``, only the
        problems that stop that node from running alone. promptflow's ``flows.validate`` (which returns a
        result object; here the problems themselves). A flow that is missing or cannot be read is a problem
        of the list too (code ``flow-not-found``...). Raises :class:`RequestError` (a ``ValueError``) when the
        flow has no node ``node``."""
        from flowline.connections.store import ConnectionStore
        from flowline.flow.build import resolve_flow_path
        from flowline.flow.scope import problems_for_node
        from flowline.flow.validate import validate_file

        path = resolve_flow_path(Path(flow))
        types = ConnectionStore().types()
        loaded, problems = validate_file(path, connections=frozenset(types), connection_types=types)
        if node:
            if loaded is not None and loaded.node(node) is None:
                names = ", ".join(n.name for n in loaded.nodes) or "none"
                raise RequestError(f"The flow {path} has no node '{node}' (its nodes: {names}).")
            problems = problems_for_node(loaded, problems, node)
        return problem_infos(problems, path)

    def check(self, flow: str | Path, node: str | None = None) -> None:
        """Raise :class:`FlowValidationError` when the flow (with ``node``: that node and those it reads) has
        errors."""
        problems = self.validate(flow, node)
        if any(p.severity == "error" for p in problems):
            from flowline.flow.build import resolve_flow_path

            raise FlowValidationError(resolve_flow_path(Path(flow)), problems)

    def streamed_outputs(self, flow: str | Path) -> dict[str, str]:
        """Each output that streams a node's tokens (an LLM or generator node it reads directly), with that
        node's name."""
        from flowline.engine.prepare import streaming_nodes
        from flowline.flow.build import load_flow_text, resolve_flow_path

        path = resolve_flow_path(Path(flow))
        loaded, _ = load_flow_text(path.read_text(encoding="utf-8"), path)
        streaming = streaming_nodes(loaded)
        refs = {o.name: o.reference.reference for o in loaded.outputs if o.reference and o.reference.reference}
        return {name: ref.name for name, ref in refs.items() if ref.kind == "node" and ref.name in streaming}


class ConnectionOperations:
    """The stored connections (secrets encrypted at rest; never in a printed form of a connection)."""

    def _store(self) -> Any:
        from flowline.connections.store import ConnectionStore

        return ConnectionStore()

    def list(self) -> list[Connection]:
        """Every stored connection, by name. promptflow's ``connections.list`` (its secrets come masked; here
        too: a listed connection's secrets read ``******``; :meth:`get` with ``with_secrets=True`` reads them).
        Raises :class:`RequestError` (a ``ValueError``) for a stored connection that cannot be decrypted (stored
        with another ``secret.key``)."""
        return [self.get(name) for name in self._store().names()]

    def get(self, name: str, with_secrets: bool = False) -> Connection:
        """A stored connection; its secrets masked unless ``with_secrets``, as promptflow 1.18.5's
        ``connections.get`` gives them.
        :class:`ConnectionNotFoundError` (a ``ValueError``) when there is no such connection."""
        from flowline.connections.model import MASK
        from flowline.connections.store import ConnectionStoreError

        store = self._store()
        try:
            connection: Connection = store.load(name, resolve_env=with_secrets)
        except ConnectionStoreError as exc:
            raise (RequestError if name in store.names() else ConnectionNotFoundError)(str(exc)) from exc
        if not with_secrets:
            connection.secrets = {k: MASK for k in connection.secrets}
        return connection

    def create_or_update(self, connection: Connection) -> Connection:
        """Store a connection (replacing one of its name), secrets encrypted; returns it as stored, secrets
        masked. A secret given as ``******`` keeps the stored value, so a connection read with masked secrets
        can be changed and saved back, as in promptflow (1.18.5 refuses ``******`` in an object it did not read;
        here any object may keep a stored secret). A custom strong-typed connection is stored as a custom one
        whose configs name its class, as promptflow 1.18.5 stores it: ``get`` returns a ``CustomConnection``.
        The object given is left as it is. promptflow's ``connections.create_or_update``.

        Raises ``TypeError`` for anything but a connection, :class:`RequestError` (a ``ValueError``) for a
        masked secret with no stored value or a connection that cannot be stored (an invalid name)."""
        from flowline.connections.model import CLASSES, MASK, Connection, CustomConnection
        from flowline.connections.store import ConnectionStoreError
        from flowline.connections.strong_type import CustomStrongTypeConnection, class_configs

        if not isinstance(connection, Connection):
            raise TypeError("connections.create_or_update() takes a connection (OpenAIConnection, "
                            f"AzureOpenAIConnection, CustomConnection, ...), not {type(connection).__name__}.")
        store = self._store()
        secrets = dict(connection.secrets)
        masked = [k for k, v in secrets.items() if v == MASK]
        if masked:
            try:
                stored = store.load(connection.name, resolve_env=False)
            except ConnectionStoreError as exc:
                raise RequestError(f"Connection '{connection.name}' has masked secrets (******) and is not stored "
                                   "yet: give the secrets' values.") from exc
            unknown = [k for k in masked if k not in stored.secrets]
            if unknown:
                raise RequestError(f"Connection '{connection.name}' has no stored secret {', '.join(unknown)} to "
                                   "keep for ******: give its value.")
            secrets.update({k: stored.secrets[k] for k in masked})
        configs = dict(connection.configs)
        if isinstance(connection, CustomStrongTypeConnection):
            configs.update(class_configs(type(connection)))
        # Stored through its type's own class: a subclass's constructor may take other arguments.
        kind = CLASSES.get(connection.TYPE, CustomConnection)
        try:
            store.save(kind(connection.name, configs, secrets))
        except ConnectionStoreError as exc:
            raise RequestError(str(exc)) from exc
        return self.get(connection.name)

    def delete(self, name: str) -> None:
        """Delete a stored connection. promptflow's ``connections.delete``; :class:`ConnectionNotFoundError` (a
        ``ValueError``) when there is none."""
        from flowline.connections.store import ConnectionStoreError

        store = self._store()
        try:
            store.delete(name)
        except ConnectionStoreError as exc:
            raise (RequestError if name in store.names() else ConnectionNotFoundError)(str(exc)) from exc
