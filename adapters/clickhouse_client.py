"""The two ways the ClickHouse adapter reaches ClickHouse, behind one small interface:

- :class:`ChdbClient`: chdb, ClickHouse in this process (``[adapter] path``, a data directory;
  none: in memory). chdb runs one data directory per process: while a connection of this
  process is open on one directory, another directory cannot be opened (:data:`_OPEN`).
- :class:`ServerClient`: clickhouse-connect to a ClickHouse server over HTTP(S)
  (``host``/``port``/``user``/``database``, the password read from the environment variable
  named by ``password_env``, never from a file).

Both open with the session settings csframe's SQL relies on (:data:`SESSION_SETTINGS`), in the
adapter's ``database``, and give rows as Python values (``DateTime64`` naive in UTC, ``Decimal``,
``date``) and column types as ClickHouse spells them.
"""

from __future__ import annotations

__all__ = ["SESSION_SETTINGS", "ChdbClient", "ServerClient", "ClickHouseError"]

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from csframe.core.errors import EngineUnavailableError

SESSION_SETTINGS: dict[str, Any] = {
    # a LEFT JOIN's missing side is NULL (ClickHouse fills the type's default, 0 or '', otherwise)
    "join_use_nulls": 1,
    # sum/max/avg of no rows is NULL, as in standard SQL (ClickHouse gives 0 otherwise)
    "aggregate_functions_null_for_empty": 1,
    # timestamps are UTC whatever the server's or the machine's zone
    "session_timezone": "UTC",
    # a CAST's result is Nullable when its argument is (CAST(NULL AS Int64) is NULL, not an error)
    "cast_keep_nullable": 1,
    # tables csframe creates: every column Nullable unless declared otherwise (NULL stays NULL)
    "data_type_default_nullable": 1,
    # a column's name means the column, not an alias of the same SELECT (standard SQL): otherwise
    # ClickHouse reads ``SELECT n * 2 AS n, n + 1 AS m`` as m = (n * 2) + 1, and ``SUM(n) AS n`` read
    # inside another SUM of that SELECT is refused (the windowed sub_movements step)
    "prefer_column_name_to_alias": 1,
    # a long --param value is a long literal: the query text may exceed the 256 KiB default
    "max_query_size": 104_857_600,
    # csframe's many steps, each inlined where read, exceed the 500 000 default of the query tree
    "max_expanded_ast_elements": 50_000_000,
}


class ClickHouseError(Exception):
    """A statement ClickHouse refused (the message is ClickHouse's)."""


# chdb: the data directory this process has open and how many connections hold it
_OPEN: dict[str, Any] = {"path": None, "count": 0}
_OPEN_LOCK = threading.Lock()
_WRITE_LOCKS: dict[str, threading.Lock] = {}  # chdb: data directory → the lock its writers take turns by


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


class ChdbClient:
    """chdb's DB-API connection on ``path`` (``":memory:"`` for none), in ``database``."""

    def __init__(self, path: str, database: str | None) -> None:
        try:
            import chdb.dbapi as dbapi
        except ImportError:
            raise EngineUnavailableError("the clickhouse adapter needs chdb to run ClickHouse in this process",
                                         hint="pip install 'csframe[clickhouse]'") from None
        with _OPEN_LOCK:
            if _OPEN["path"] not in (None, path) and _OPEN["count"] > 0:
                raise EngineUnavailableError(
                    f"chdb has {_OPEN['path']} open in this process and cannot open {path} beside it",
                    hint="chdb runs one data directory per process: close the other session first.", transient=True)
            try:
                self.con = dbapi.connect(path)
            except Exception as e:  # noqa: BLE001 - chdb raises RuntimeError for all
                held = "already initialized" in str(e) or "Cannot lock file" in str(e)
                raise EngineUnavailableError(
                    f"cannot open chdb data directory {path}: {' '.join(str(e).split())}",
                    hint="Another process (or another directory in this process) holds chdb; wait for it (--retries N "
                         "waits longer)." if held else "Check [adapter] path in csframe.toml.", transient=held) from None
            _OPEN["path"], _OPEN["count"] = path, _OPEN["count"] + 1
        self.path = path
        self._closed = False
        for name, value in SESSION_SETTINGS.items():
            self.command(f"SET {name} = {_literal(value)}")
        if database:
            self.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            self.command(f"USE `{database}`")

    def query(self, sql: str, settings: dict[str, Any] | None = None) -> tuple[list[tuple], list[tuple[str, str]]]:
        cur = self.con.cursor()
        try:
            if settings:
                sql = f"{sql} SETTINGS " + ", ".join(f"{k} = {_literal(v)}" for k, v in settings.items())
            cur.execute(sql)
            rows = list(cur.fetchall())
            described = [(d[0], str(d[1])) for d in (cur.description or ())]
        except Exception as e:  # noqa: BLE001 - chdb raises RuntimeError (ChdbError) for all
            raise ClickHouseError(" ".join(str(e).split())) from None
        finally:
            cur.close()
        return rows, described

    def command(self, sql: str, settings: dict[str, Any] | None = None) -> None:
        self.query(sql, settings)

    def writing(self) -> Any:
        """The lock the writers of this data directory hold while they write (this process is the
        only one that can open it)."""
        with _OPEN_LOCK:
            return _WRITE_LOCKS.setdefault(self.path, threading.Lock())

    def insert(self, table: Any, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """The rows through a TabSeparated file read by ClickHouse (:mod:`.clickhouse_io`)."""
        import os
        import tempfile

        from .clickhouse_io import insert_from_file, write_tsv

        fd, path = tempfile.mkstemp(prefix="csframe-chdb-", suffix=".tsv")
        os.close(fd)
        try:
            write_tsv(path, rows)
            self.command(insert_from_file(table, columns, types, path))
        finally:
            os.unlink(path)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.con.close()
        finally:
            with _OPEN_LOCK:
                _OPEN["count"] -= 1
                if _OPEN["count"] <= 0:
                    _OPEN["path"], _OPEN["count"] = None, 0


class ServerClient:
    """clickhouse-connect's HTTP client to a server."""

    def __init__(self, host: str, port: int | None, user: str, password: str, database: str | None,
                 secure: bool, connect_timeout: float) -> None:
        try:
            import clickhouse_connect
        except ImportError:
            raise EngineUnavailableError("the clickhouse adapter needs clickhouse-connect to reach a server",
                                         hint="pip install 'csframe[clickhouse]'") from None
        try:
            self.client = clickhouse_connect.get_client(
                host=host, port=port or 0, username=user, password=password, database=database or "__default__",
                secure=secure, connect_timeout=connect_timeout, settings=dict(SESSION_SETTINGS),
                autogenerate_session_id=True)
        except Exception as e:  # noqa: BLE001 - the driver's errors, without the password
            text = " ".join(str(e).split())
            if password:
                text = text.replace(password, "***")
            raise EngineUnavailableError(f"cannot connect to clickhouse at {host}: {text}",
                                         hint="Check that the server runs and host, port, user, database and the "
                                              "password's environment variable are right.", transient=True) from None

    def query(self, sql: str, settings: dict[str, Any] | None = None) -> tuple[list[tuple], list[tuple[str, str]]]:
        try:
            result = self.client.query(sql, settings=settings or None)
        except Exception as e:  # noqa: BLE001 - DatabaseError and friends
            raise ClickHouseError(" ".join(str(e).split())) from None
        types = [t.name for t in result.column_types]
        return [tuple(r) for r in result.result_rows], list(zip(result.column_names, types))

    def command(self, sql: str, settings: dict[str, Any] | None = None) -> None:
        try:
            self.client.command(sql, settings=settings or None)
        except Exception as e:  # noqa: BLE001
            raise ClickHouseError(" ".join(str(e).split())) from None

    def insert(self, table: Any, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows sent in ClickHouse's native binary format (clickhouse-connect), never as SQL text;
        ``table`` is a sqlglot ``exp.Table``."""
        try:
            self.client.insert(table.name, [list(r) for r in rows], column_names=list(columns),
                               database=table.db or None)
        except Exception as e:  # noqa: BLE001
            raise ClickHouseError(" ".join(str(e).split())) from None

    def writing(self) -> Any:
        """Nothing: writers on a server are not serialised (docs/clickhouse.md)."""
        return contextlib.nullcontext()

    def close(self) -> None:
        self.client.close()
