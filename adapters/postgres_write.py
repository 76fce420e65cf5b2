"""PostgreSQL: writing a run's rows to a target table, holding statements to a run's time
limit, and telling a transient connection failure from a permanent one.

``write_results`` replaces the run's keys in one transaction:

1. ``pg_advisory_xact_lock`` on the table's schema-qualified name, so two csframe runs
   writing the same table — even while it does not exist yet — take turns;
2. ``CREATE TABLE IF NOT EXISTS`` and ``LOCK TABLE … IN SHARE ROW EXCLUSIVE MODE`` (any other
   writer waits; readers go on reading the previous rows until the commit);
3. the rows are copied (``COPY``) into a temporary staging table dropped at commit;
4. the target's rows whose key a new row has are deleted, the new rows inserted; commit.

A process killed before the commit leaves the previous rows: PostgreSQL rolls back a
transaction whose connection is lost.
"""

from __future__ import annotations

__all__ = ["write_results", "local_timeout", "is_transient", "timed_out"]

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from csframe.core.errors import UsageError
from csframe.core.writeback import create_table, delete_matching, insert_from, pause_for_tests, target_table

_DIALECT = "postgres"
_STAGING = "csframe_staging"
# SQLSTATEs of connection failures that trying again will not fix: bad password or
# authorisation, unknown database or role, bad connection parameters
_PERMANENT = {"28000", "28P01", "3D000", "42704", "08P01"}
_PERMANENT_TEXT = ("password", "authentication", "does not exist", "no pg_hba.conf entry", "invalid dsn",
                   "invalid connection option", "permission denied")


def is_transient(error: BaseException) -> bool:
    """Whether a failure to connect may pass: refused, timed out, server starting or full."""
    state = getattr(error, "sqlstate", None)
    if state in _PERMANENT:
        return False
    text = str(error).lower()
    return not any(t in text for t in _PERMANENT_TEXT)


def timed_out(error: BaseException) -> bool:
    """A statement cancelled by ``statement_timeout`` (SQLSTATE 57014)."""
    return getattr(error, "sqlstate", None) == "57014"


def local_timeout(cur: Any, deadline: Any, configured_ms: int = 0) -> None:
    """Inside a transaction: ``statement_timeout`` for its statements = the time left in the
    run (or the project's ``statement_timeout_ms``, whichever is shorter)."""
    left = deadline.remaining() if deadline is not None else None  # raises when already up
    if left is None:
        return
    ms = max(1, int(left * 1000))
    if configured_ms:
        ms = min(ms, configured_ms)
    cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(ms),))


def _check_columns(cur: Any, table: exp.Table, columns: Sequence[tuple[str, str]], name: str) -> None:
    cur.execute(exp.select(exp.Star()).from_(table.copy()).limit(0).sql(_DIALECT))
    have = {d.name.lower() for d in cur.description}
    missing = [c for c, _ in columns if c.lower() not in have]
    if missing:
        raise UsageError(f"--target {name}: the table exists but is not a csframe result table "
                         f"(no column {', '.join(missing)})", hint="Name another table, or drop this one.")


def write_results(con: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str], deadline: Any = None, configured_ms: int = 0) -> int:
    from psycopg import sql

    table = target_table(name)
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    ident = sql.Identifier(*parts)
    staging = exp.Table(this=exp.to_identifier(_STAGING, quoted=True))
    with con.transaction(), con.cursor() as cur:
        local_timeout(cur, deadline, configured_ms)
        schema = table.db or cur.execute("SELECT current_schema()").fetchone()[0]
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"csframe target {schema}.{table.name}",))
        cur.execute(create_table(table, columns, keys).sql(_DIALECT))
        _check_columns(cur, table, columns, name)
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(ident))
        names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
            sql.Identifier(_STAGING),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(exp.DataType.build(t).sql(_DIALECT)))
                               for c, t in columns)))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(_STAGING), names)) as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(delete_matching(table, staging, keys).sql(_DIALECT))
        pause_for_tests()
        local_timeout(cur, deadline, configured_ms)  # the time left after the delete
        cur.execute(insert_from(table, staging, columns).sql(_DIALECT))
    return len(rows)
