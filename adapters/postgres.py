"""The PostgreSQL adapter (psycopg 3). ``dsn`` comes from the environment
(``dsn = "${CSFRAME_PG_DSN}"``); ``schema`` is put first on the search path."""

from __future__ import annotations

__all__ = ["PostgresAdapter", "csframe_register_adapters"]

import re
from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError, RunTimeoutError, UsageError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import want_int, want_str

from .init_support import InitFromModule
from .postgres_dialect import TRANSFORMS


_MAX_TIMEOUT_MS = 2_147_483_647  # PostgreSQL's statement_timeout is an int4 of milliseconds
_PG_TYPES = {"DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT"}
# again in each transaction: a source's own SQL may call set_config() and turn it off for the
# session while an earlier query of the run reads it
_STANDARD_STRINGS = "SET LOCAL standard_conforming_strings = on"


def _host_of(dsn: str) -> str:
    m = re.search(r"host=([^\s]+)", dsn) or re.search(r"@([^:/?]+)", dsn)
    return m.group(1) if m else "localhost"


def _reason(error: Exception, dsn: str) -> str:
    """What libpq said, on one line, with the DSN's password blanked out wherever it appears
    (libpq quotes parts of a connection string it cannot parse)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        password = conninfo_to_dict(dsn).get("password")
    except Exception:  # noqa: BLE001 - a DSN libpq cannot parse: say so, quote nothing of it
        return "the dsn is not a PostgreSQL connection string (key=value pairs or a postgresql:// URI)"
    text = " ".join(str(error).split())
    if password:
        text = text.replace(str(password), "***")
    return text.removeprefix("connection failed: ") or type(error).__name__


_LOST_STATES = ("57P01", "57P02", "57P03")  # admin_shutdown, crash_shutdown, cannot_connect_now


def _lost(error: Exception, con: Any) -> bool:
    """Whether a statement failed because the connection went away (the server restarted or
    terminated it): a transient failure, for the run to connect again and repeat the stage."""
    import psycopg

    state = getattr(error, "sqlstate", None) or ""
    return isinstance(error, psycopg.OperationalError) and (
        state.startswith("08") or state in _LOST_STATES or (con is not None and con.closed))


def _refuse_nul(sql: str) -> None:
    """PostgreSQL text cannot hold the NUL character: a value with one is refused (exit 2)
    before it is sent, rather than failing in the driver."""
    if "\x00" in sql:
        raise UsageError("postgres cannot store the NUL character (\\x00) in text: a --param value, --by name, "
                         "column mapping or table name of this run contains one",
                         hint="Remove the NUL character from the value (PostgreSQL text never holds it).")


class PostgresAdapter(InitFromModule):
    """Runs csframe's query on PostgreSQL in a read-only transaction."""

    NAME = "postgres"
    DIALECT = "postgres"
    TRANSFORMS = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - {"name", "dsn", "schema", "statement_timeout_ms"}
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for postgres: {', '.join(sorted(unknown))}",
                               hint="postgres takes: dsn, schema, statement_timeout_ms.")
        if "dsn" not in settings:
            raise ProjectError("adapter: postgres needs a dsn", hint='Set dsn = "${CSFRAME_PG_DSN}" and export it.')
        self.dsn = want_str(settings["dsn"], "adapter.dsn", 'dsn = "${CSFRAME_PG_DSN}"')
        schema = settings.get("schema")
        self.schema = None if schema is None else want_str(schema, "adapter.schema", 'schema = "analytics"')
        self.timeout_ms = want_int(settings.get("statement_timeout_ms", 0), "adapter.statement_timeout_ms",
                                   minimum=0, maximum=_MAX_TIMEOUT_MS)
        self.con = None
        self.deadline = None  # the run's time limit (csframe.core.deadline.Deadline), while it runs

    def describe(self) -> str:
        return f"postgres at {_host_of(self.dsn)}"

    def connect(self, *, write: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise EngineUnavailableError("the postgres adapter needs psycopg",
                                         hint="pip install 'csframe[postgres]'") from None
        from .postgres_write import is_transient

        left = self.deadline.remaining() if self.deadline is not None else None
        try:
            self.con = psycopg.connect(self.dsn, autocommit=True,
                                       connect_timeout=10 if left is None else max(2, min(10, int(left) + 1)))
        except psycopg.Error as e:
            raise EngineUnavailableError(
                f"cannot connect to postgres at {_host_of(self.dsn)}: {_reason(e, self.dsn)}",
                hint="Check that the server runs and that the dsn (CSFRAME_PG_DSN) is right.",
                transient=isinstance(e, psycopg.OperationalError) and is_transient(e),
            ) from None
        with self.con.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            # csframe's one query has many CTEs whose row estimates multiply into huge costs,
            # which makes PostgreSQL JIT-compile it for seconds; the query itself runs in ms.
            cur.execute("SET jit = off")
            # csframe's SQL writes strings as standard literals ('it''s', a backslash is a
            # backslash): with standard_conforming_strings off (a database or role setting) a
            # backslash in a value would escape its closing quote and the rest run as SQL
            cur.execute("SET standard_conforming_strings = on")
            if self.schema:
                from psycopg import sql

                path = sql.SQL(", ").join([sql.Identifier(str(self.schema)), sql.Identifier("public")])
                cur.execute("SELECT set_config('search_path', %s, false)", (path.as_string(self.con),))
            if self.timeout_ms:
                cur.execute("SELECT set_config('statement_timeout', %s, false)", (str(self.timeout_ms),))

    def _raise_if_lost(self, error: Exception, during: str) -> None:
        if _lost(error, self.con):
            reason = " ".join(str(error).split()) or type(error).__name__
            self.close()
            raise EngineUnavailableError(f"lost the connection to postgres at {_host_of(self.dsn)} during {during}: "
                                         f"{reason}", hint="Check that the server runs; the run tries again "
                                                           "(--retries).", transient=True) from None

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (None: no limit) until it is cleared."""
        self.deadline = deadline

    def _require(self):
        if self.con is None:
            self.connect()
        return self.con

    def execute(self, sql: str) -> list[tuple]:
        import psycopg

        from .postgres_write import local_timeout, timed_out

        _refuse_nul(sql)
        con = self._require()
        try:
            with con.transaction(), con.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(_STANDARD_STRINGS)
                local_timeout(cur, self.deadline, self.timeout_ms)
                cur.execute(sql)
                return cur.fetchall()
        except psycopg.Error as e:
            if timed_out(e) and self.deadline is not None and self.deadline.seconds is not None:
                raise RunTimeoutError("postgres cancelled the query: the run's time limit was reached") from None
            self._raise_if_lost(e, "the query")
            raise MetricFailedError(f"postgres failed to run the query: {str(e).strip()}") from None

    def relation_columns(self, relation_sql: str) -> list[str]:
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, PostgreSQL type, e.g. ``timestamptz``) of each column of the relation."""
        import psycopg

        from .postgres_write import local_timeout, timed_out

        _refuse_nul(relation_sql)
        con = self._require()
        try:
            with con.transaction(), con.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(_STANDARD_STRINGS)
                local_timeout(cur, self.deadline, self.timeout_ms)
                cur.execute(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0")
                return [(d.name, d.type_display) for d in cur.description]
        except psycopg.Error as e:
            if timed_out(e) and self.deadline is not None and self.deadline.seconds is not None:
                raise RunTimeoutError("postgres cancelled the query: the run's time limit was reached") from None
            self._raise_if_lost(e, "reading a source")
            raise MetricFailedError(str(e).strip().split("\n")[0]) from None

    def check_target(self, table: str, columns: Any, keys: Any) -> None:
        """The pre-flight of a run that writes ``table`` (:func:`.postgres_write.check_target`)."""
        from .postgres_write import check_target

        check_target(self._require(), table, columns, self.deadline, self.timeout_ms)

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table`` (created if absent) in one transaction."""
        import psycopg

        from .postgres_write import timed_out, write_results

        try:
            return write_results(self._require(), table, columns, rows, keys, self.deadline, self.timeout_ms)
        except psycopg.Error as e:
            if timed_out(e) and self.deadline is not None and self.deadline.seconds is not None:
                raise RunTimeoutError("postgres cancelled the write: the run's time limit was reached") from None
            self._raise_if_lost(e, f"the write of {table} (nothing was written)")
            raise MetricFailedError(f"postgres could not write {table}: {str(e).strip().splitlines()[0]}",
                                    hint="Nothing was written; the table holds what it held before.") from None

    # csframe init --adapter postgres and the test kit (core/adapter.py): the code is in postgres_init.py
    INIT_MODULE = "csframe.adapters.postgres_init"
    INIT_OPTIONS: tuple[str, ...] = ("dsn", "schema")

    def load_tables(self, dataset: Any) -> None:
        """Create each table of ``dataset`` (in ``schema`` when set) and COPY its rows in."""
        from psycopg import sql

        con = self._require()
        with con.transaction(), con.cursor() as cur:
            if self.schema:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            for table in dataset.tables:
                name = sql.Identifier(self.schema, table.name) if self.schema else sql.Identifier(table.name)
                cols = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_PG_TYPES.get(c.type, c.type)))
                    for c in table.columns
                )
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
                cur.execute(sql.SQL("CREATE TABLE {} ({})").format(name, cols))
                with cur.copy(sql.SQL("COPY {} FROM STDIN").format(name)) as copy:
                    for row in table.rows:
                        copy.write_row(row)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


@hookimpl
def csframe_register_adapters(register) -> None:
    register("postgres", PostgresAdapter)
