"""The ClickHouse adapter: sqlglot's ``clickhouse`` dialect, run either in this process by chdb
(``[adapter] path``, a data directory relative to the project; none: in memory) or on a server
through clickhouse-connect (``host``, ``port``, ``user``, ``secure``; the password only from the
environment variable ``password_env`` names). ``database`` is the database the sources are read
from (and target tables written to); chdb creates it when missing. docs/clickhouse.md says what is
proven where. The drivers are imported inside ``connect()``."""

from __future__ import annotations

__all__ = ["ClickHouseAdapter", "csframe_register_adapters"]

import os
import re
from pathlib import Path
from typing import Any

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError, RunTimeoutError
from csframe.core.hookspecs import hookimpl
from csframe.core.settings import want_bool, want_int, want_str

from .clickhouse_dialect import TRANSFORMS
from .init_support import InitFromModule

_KEYS = {"name", "path", "host", "port", "user", "database", "password_env", "secure"}
_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,205}")
_TIMEOUT = ("TIMEOUT_EXCEEDED", "Timeout exceeded")


class ClickHouseAdapter(InitFromModule):
    """Runs csframe's query on ClickHouse (chdb in process, or a server)."""

    NAME = "clickhouse"
    DIALECT = "clickhouse"
    TRANSFORMS = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - _KEYS
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for clickhouse: {', '.join(sorted(unknown))}",
                               hint="clickhouse takes: path (chdb), or host, port, user, password_env, secure "
                                    "(a server); and database.")
        self.host = None if settings.get("host") is None else want_str(settings["host"], "adapter.host",
                                                                         'host = "clickhouse.internal"')
        path = settings.get("path")
        if path is not None and self.host is not None:
            raise ProjectError("adapter: clickhouse takes path (chdb, in this process) or host (a server), not both",
                               hint="Remove one of them from [adapter] in csframe.toml.")
        if path is None:
            self.path = ":memory:"
        else:
            path = want_str(path, "adapter.path", 'path = "warehouse.chdb" (a directory relative to the project)')
            self.path = path if path == ":memory:" else str((Path(project_dir or ".") / path).resolve())
        database = settings.get("database")
        self.database = None if database is None else want_str(database, "adapter.database", 'database = "analytics"')
        if self.database is not None and not _DATABASE.fullmatch(self.database):
            raise ProjectError(f"adapter: database {self.database!r} is not a plain database name",
                               hint="Use letters, digits and underscores, starting with a letter or underscore.")
        self.port = None if settings.get("port") is None else want_int(settings["port"], "adapter.port",
                                                                         minimum=1, maximum=65535)
        self.user = want_str(settings.get("user", "default"), "adapter.user", 'user = "csframe"')
        self.password_env = None if settings.get("password_env") is None else want_str(
            settings["password_env"], "adapter.password_env", 'password_env = "CSFRAME_CLICKHOUSE_PASSWORD"')
        self.secure = want_bool(settings.get("secure", False), "adapter.secure")
        if self.host is None and (self.port is not None or self.password_env is not None or "user" in settings):
            raise ProjectError("adapter: port, user and password_env are for a clickhouse server: set host too",
                               hint="Set host, or remove them to run chdb in this process (path).")
        self.client = None
        self.deadline = None

    def describe(self) -> str:
        where = f"clickhouse at {self.host}" if self.host else f"chdb {self.path}"
        return f"{where} (database {self.database})" if self.database else where

    def connect(self, *, write: bool = False) -> None:
        from .clickhouse_client import ChdbClient, ServerClient

        self.close()
        if self.host is None:
            if self.path != ":memory:" and not write and not Path(self.path).exists():
                raise EngineUnavailableError(f"chdb data directory {self.path} does not exist",
                                             hint="Check [adapter] path in csframe.toml, or run `csframe init --demo "
                                                  "--adapter clickhouse`.")
            self.client = ChdbClient(self.path, self.database)
            return
        password = ""
        if self.password_env is not None:
            if self.password_env not in os.environ:
                raise EngineUnavailableError(f"clickhouse: environment variable {self.password_env} is not set",
                                             hint=f"Export {self.password_env} with the password of user {self.user}.")
            password = os.environ[self.password_env]
        left = self.deadline.remaining() if self.deadline is not None else None
        self.client = ServerClient(self.host, self.port, self.user, password, self.database, self.secure,
                                   10 if left is None else max(2, min(10, int(left) + 1)))

    def set_deadline(self, deadline: Any) -> None:
        self.deadline = deadline

    def _require(self):
        if self.client is None:
            self.connect()
        return self.client

    def limits(self) -> dict[str, Any]:
        """Per-query settings holding a statement to the run's time limit."""
        left = self.deadline.remaining() if self.deadline is not None else None
        if left is None:
            return {}
        if left <= 0:
            raise RunTimeoutError("the run's time limit was reached before clickhouse ran the query")
        return {"max_execution_time": max(1, int(left + 0.999)), "timeout_overflow_mode": "throw"}

    def run(self, sql: Any, what: str) -> tuple[list[tuple], list[tuple[str, str]]]:
        """(rows, (name, type) of each column) of ``sql``: text, or a tree this may change."""
        from .clickhouse_client import ClickHouseError

        from .clickhouse_run import run_split

        client = self._require()
        try:
            # the CTEs read twice or more first, each into a temporary table (clickhouse_run.py)
            return run_split(sql, lambda final: client.query(final, self.limits()),
                             lambda statement: client.command(statement, self.limits()), client.command)
        except ClickHouseError as e:
            if any(t in str(e) for t in _TIMEOUT) and self.deadline is not None:
                raise RunTimeoutError("clickhouse cancelled the query: the run's time limit was reached") from None
            raise MetricFailedError(f"clickhouse failed to run {what}: {e}") from None

    def execute(self, sql: str) -> list[tuple]:
        rows, _ = self.run(sql, "the query")
        return rows

    def execute_tree(self, tree: Any) -> list[tuple]:
        """The metrics query as csframe's tree: split without parsing its SQL again (clickhouse_run.py)."""
        rows, _ = self.run(tree, "the query")
        return rows

    def relation_columns(self, relation_sql: str) -> list[str]:
        return [name for name, _ in self.relation_types(relation_sql)]

    def relation_types(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, ClickHouse type without Nullable/LowCardinality) of each column of the relation."""
        from .clickhouse_dialect import plain_type

        from .clickhouse_client import ClickHouseError

        client = self._require()
        try:
            _, described = client.query(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0", self.limits())
        except ClickHouseError as e:
            raise MetricFailedError(str(e).split(". (")[0]) from None
        return [(name, plain_type(kind)) for name, kind in described]

    def check_target(self, table: str, columns: Any, keys: Any) -> None:
        from .clickhouse_write import check_target

        check_target(self, table, columns)

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table``: a staging table holding the table's rows after
        the write, swapped in whole (:mod:`.clickhouse_write`)."""
        from .clickhouse_write import write_results

        return write_results(self, table, columns, rows, keys)

    # csframe init --adapter clickhouse and the test kit (core/adapter.py): in clickhouse_init.py
    INIT_MODULE = "csframe.adapters.clickhouse_init"
    INIT_OPTIONS: tuple[str, ...] = ()
    # among the kit's default engines only when set (or named: CSFRAME_TEST_ENGINES): every
    # csframe_case test would also run on chdb; the conformance suite runs it regardless
    TEST_OPT_IN_ENV = "CSFRAME_TEST_CLICKHOUSE"

    def load_tables(self, dataset: Any) -> None:
        """Create (replacing) each table of ``dataset`` and insert its rows."""
        from .clickhouse_client import ClickHouseError
        from .clickhouse_io import create_table, table_ref

        client = self._require()
        try:
            for table in dataset.tables:
                columns = [(c.name, c.type) for c in table.columns]
                client.command(create_table(table_ref(table.name, self.database), columns, replace=True))
                client.insert(table_ref(table.name, self.database), [c for c, _ in columns],
                              [t for _, t in columns], table.rows)
        except ClickHouseError as e:
            raise MetricFailedError(f"clickhouse could not load the tables: {e}") from None

    def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            client.close()


@hookimpl
def csframe_register_adapters(register) -> None:
    register("clickhouse", ClickHouseAdapter)
