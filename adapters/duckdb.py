"""The DuckDB adapter: the embedded default engine.

``[adapter] database`` is a file path relative to the project directory, or
``:memory:``. The driver is imported inside ``connect()``.

A file is opened read-only unless the caller writes: ``connect(write=True)`` (``csframe init
--demo``, the test kit's ``load_tables``), or a run with ``--target``, whose pre-flight
(``check_target``) reopens it read-write. DuckDB lets several processes open a file read-only
at once, or one process read-write: so plain runs and other readers share the file, and a
writer waits (``--retries``) until they are done, as they wait for it.

Within one process DuckDB keeps one database per file, opened in one mode: a reader joins a
database this process already has open read-write, and a writer closes the read-only
connections of this process's idle DuckDB adapters (they reopen when next used) before it
opens the file read-write (:func:`_release_readers`).
"""

from __future__ import annotations

__all__ = ["DuckDBAdapter", "csframe_register_adapters", "csframe_default_adapter"]

import threading
import weakref
from pathlib import Path
from typing import Any


from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import want_bool, want_int, want_str

from .duckdb_dialect import TRANSFORMS
from .init_support import InitFromModule


# Process-wide, like DuckDB's own cache of open databases: the adapters holding a read-only
# connection, by file, so that a writer of this process can have them let go of the file.
_READERS: dict[str, weakref.WeakSet[DuckDBAdapter]] = {}
_READERS_LOCK = threading.Lock()
_RELEASE_WAIT_S = 30.0  # how long a writer waits for a reader of this process busy with a query
_MAX_THREADS = 1024  # more is a typo: DuckDB starts a thread per unit, and refuses 0
_OTHER_MODE = "different configuration"  # duckdb: the file is open in this process in the other mode


def _release_readers(database: str, me: DuckDBAdapter, deadline: Any) -> None:
    """Close the read-only connections other adapters of this process hold on ``database``,
    each once it has finished its statement (at most the run's time left, or 30 s)."""
    with _READERS_LOCK:
        holders = [a for a in _READERS.get(database, ()) if a is not me]
    left = deadline.remaining() if deadline is not None else None
    for holder in holders:
        if not holder._using.acquire(timeout=_RELEASE_WAIT_S if left is None else left):
            raise EngineUnavailableError(
                f"duckdb database {database} is being read by another session of this process",
                hint="Wait for it to finish (--retries N waits longer), or close the other session.", transient=True)
        try:
            if holder.con is not None and not holder.writable:  # still a reader (not reopened meanwhile)
                holder._disconnect()
        finally:
            holder._using.release()


class DuckDBAdapter(InitFromModule):
    """Runs csframe's query in an embedded DuckDB database."""

    NAME = "duckdb"
    DIALECT = "duckdb"
    TRANSFORMS = TRANSFORMS  # csframe's neutral query is DuckDB's SQL as it is, but for a speed rewrite

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - {"name", "database", "read_only", "threads"}
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for duckdb: {', '.join(sorted(unknown))}",
                               hint="duckdb takes: database, read_only, threads.")
        database = want_str(settings.get("database", ":memory:"), "adapter.database",
                            'database = "warehouse.duckdb" (a path relative to the project, or ":memory:")')
        self.database = database if database == ":memory:" else str((project_dir / database).resolve())
        self.read_only = want_bool(settings.get("read_only", False), "adapter.read_only")
        threads = settings.get("threads")
        self.threads = None if threads is None else want_int(threads, "adapter.threads", minimum=1, maximum=_MAX_THREADS)
        self.con = None
        self.writable = False  # whether self.con was opened read-write
        self.deadline = None  # the run's time limit (csframe.core.deadline.Deadline), while it runs
        self._using = threading.RLock()  # held while self.con runs a statement (see _release_readers)

    def describe(self) -> str:
        return f"duckdb database {self.database}"

    def connect(self, *, write: bool = False) -> None:
        """Open the database: read-only (a file) unless ``write`` (which may also create the
        file). A file another process holds is a transient error, for the run's retries."""
        import duckdb

        if self.database != ":memory:" and not write and not Path(self.database).exists():
            raise EngineUnavailableError(
                f"duckdb database {self.database} does not exist",
                hint="Check [adapter] database in csframe.toml, or run `csframe init --demo`.",
            )
        with self._using:
            self._disconnect()
            try:
                self._open(read_only=not write and self.database != ":memory:")
                self.con.execute("SET TimeZone = 'UTC'")
                if self.threads:
                    self.con.execute(f"SET threads = {int(self.threads)}")
            except duckdb.Error as e:
                self._disconnect()
                if "Could not set lock" in str(e):  # another process has the file open: may pass
                    raise EngineUnavailableError(
                        f"duckdb database {self.database} is in use by another process",
                        hint="DuckDB lets one process open a file for writing, or several for reading; wait for the "
                             "other run (--retries N waits longer).", transient=True) from None
                if _OTHER_MODE in str(e):  # opened read-only again by this process meanwhile: may pass
                    raise EngineUnavailableError(
                        f"duckdb database {self.database} is open read-only elsewhere in this process",
                        hint="Close the other connection to the file, or wait for it (--retries N waits longer).",
                        transient=True) from None
                raise EngineUnavailableError(f"cannot open duckdb database {self.database}: {e}") from None

    def _open(self, *, read_only: bool) -> None:
        import duckdb

        try:
            self.con = duckdb.connect(self.database, read_only=read_only)
        except duckdb.ConnectionException as e:
            if _OTHER_MODE not in str(e):
                raise
            # this process has the file open in the other mode already (another session)
            if not read_only:
                _release_readers(self.database, self, self.deadline)
            read_only = False  # a reader joins the read-write database: it reads as well
            self.con = duckdb.connect(self.database, read_only=False)
        self.writable = not read_only
        if read_only:
            with _READERS_LOCK:
                _READERS.setdefault(self.database, weakref.WeakSet()).add(self)

    def _disconnect(self) -> None:
        with _READERS_LOCK:
            readers = _READERS.get(self.database)
            if readers is not None:
                readers.discard(self)
                if not readers:
                    del _READERS[self.database]
        if self.con is not None:
            con, self.con, self.writable = self.con, None, False
            con.close()

    def _writable(self) -> Any:
        """The connection, reopened read-write when it was opened read-only."""
        if self.con is None or not self.writable:
            self.connect(write=True)
        return self.con

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (None: no limit) until it is cleared."""
        self.deadline = deadline

    def _require(self):
        if self.con is None:
            self.connect()
        return self.con

    def execute(self, sql: str) -> list[tuple]:
        import duckdb

        from .duckdb_write import limited

        with self._using:
            con = self._require()
            try:
                with limited(con, self.deadline):
                    return con.execute(sql).fetchall()
            except duckdb.Error as e:
                raise MetricFailedError(f"duckdb failed to run the query: {e}") from None

    def relation_columns(self, relation_sql: str) -> list[str]:
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of ``SELECT * FROM (relation) LIMIT 0``."""
        import duckdb

        from .duckdb_write import limited

        with self._using:
            con = self._require()
            try:
                with limited(con, self.deadline):
                    cur = con.execute(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0")
            except duckdb.Error as e:
                raise MetricFailedError(str(e).split("\n")[0]) from None
            return [(d[0], str(d[1])) for d in cur.description]

    def _refuse_read_only(self, table: str) -> None:
        if self.read_only:
            raise ProjectError(f"--target {table}: [adapter] read_only = true forbids writing",
                               hint="Remove read_only from csframe.toml to write result tables.")

    def check_target(self, table: str, columns: Any, keys: Any) -> None:
        """The pre-flight of a run that writes ``table``: its schema must exist, an existing
        table must be of the documented shape; then the file is reopened read-write."""
        from .duckdb_write import check_target

        self._refuse_read_only(table)
        with self._using:
            check_target(self._require(), table, columns, self.deadline)
            self._writable()

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table`` (created if absent) in one transaction."""
        from .duckdb_write import write_results

        self._refuse_read_only(table)
        with self._using:
            return write_results(self._writable(), table, columns, rows, keys, self.deadline)

    # csframe init --adapter duckdb and the test kit (core/adapter.py): the code is in duckdb_init.py
    INIT_MODULE = "csframe.adapters.duckdb_init"
    INIT_OPTIONS: tuple[str, ...] = ()

    def load_tables(self, dataset: Any) -> None:
        from .duckdb_io import write_dataset

        with self._using:
            write_dataset(self._writable(), dataset)

    def close(self) -> None:
        with self._using:
            self._disconnect()


@hookimpl
def csframe_register_adapters(register) -> None:
    register("duckdb", DuckDBAdapter)


@hookimpl
def csframe_default_adapter(adapters) -> str | None:
    """DuckDB, embedded, needs no server: the default when no plugin installed later names another."""
    return "duckdb" if "duckdb" in adapters else None
