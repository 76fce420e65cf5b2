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

``check_target`` is the run's pre-flight, before anything is computed: the schema must exist
(csframe never creates one), and an existing table must have the documented columns of the
right type families, read from ``pg_attribute``
(:func:`csframe.core.writeback.check_shape`); ``write_results`` checks again under its lock.
"""

from __future__ import annotations

__all__ = ["pg_target", "check_target", "existing_columns", "write_results", "local_timeout", "is_transient", "timed_out"]

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from csframe.core.errors import MetricFailedError, RunTimeoutError, UsageError
from csframe.core.writeback import (
    ExistingColumn,
    check_shape,
    create_table,
    delete_matching,
    insert_from,
    missing_schema,
    target_table,
    UNCOMMITTED,
    write_stage,
)

_DIALECT = "postgres"
_STAGING = "csframe_staging"
_MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL truncates a longer name
# SQLSTATEs of connection failures that trying again will not fix: bad password or
# authorisation, unknown database or role, bad connection parameters
_PERMANENT = {"28000", "28P01", "3D000", "42704", "08P01"}
_SPELLED = {"VARCHAR": "text", "DATE": "date", "DOUBLE": "double precision", "TIMESTAMP": "timestamp"}
# format_type(oid, NULL) -> type family; the connection's time zone is UTC, so a timestamptz
# column takes csframe's UTC timestamps as they are
_FAMILIES = {"text": "text", "character varying": "text", "date": "date", "double precision": "floating",
             "real": "floating", "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamp"}
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


def existing_columns(cur: Any, table: exp.Table) -> list[ExistingColumn] | None:
    """The columns of ``table`` as PostgreSQL resolves the name (the search path for a bare
    one), or None when there is no such table."""
    from psycopg import sql

    parts = [p for p in (table.db, table.name) if p]
    oid = cur.execute("SELECT to_regclass(%s)::oid", (sql.Identifier(*parts).as_string(cur),)).fetchone()[0]
    if oid is None:
        return None
    rows = cur.execute(
        "SELECT attname, format_type(atttypid, atttypmod), format_type(atttypid, NULL), attnotnull, "
        "atthasdef OR attidentity <> '' OR attgenerated <> '' "
        "FROM pg_catalog.pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,)).fetchall()
    return [ExistingColumn(name=n, type=t, family=_FAMILIES.get(base), nullable=not notnull, filled=filled)
            for n, t, base, notnull, filled in rows]


def _check(cur: Any, table: exp.Table, columns: Sequence[tuple[str, str]], name: str) -> None:
    """Refuse a target that cannot be written (exit 2)."""
    if table.catalog:
        here = cur.execute("SELECT current_database()").fetchone()[0]
        if table.catalog != here:
            raise UsageError(f"--target {name}: names database {table.catalog}, but the connection is to database "
                             f"{here} (PostgreSQL writes only to the database it is connected to)",
                             hint="Write SCHEMA.TABLE, or point the dsn at that database.")
    if table.db:
        if cur.execute("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = %s",
                       (table.db,)).fetchone()[0] == 0:
            raise missing_schema(name, f"schema {table.db}", f'CREATE SCHEMA "{table.db}"')
    elif cur.execute("SELECT current_schema()").fetchone()[0] is None:
        raise UsageError(f"--target {name}: no schema of the search path exists to create the table in",
                         hint="Write SCHEMA.TABLE with an existing schema, or create the [adapter] schema first.")
    existing = existing_columns(cur, table)
    if existing is not None:
        check_shape(name, existing, columns, lambda t: _SPELLED.get(t, t))


def pg_target(name: str) -> exp.Table:
    """``name`` as a target table (:func:`csframe.core.writeback.target_table`); a part longer
    than PostgreSQL's 63 bytes is a usage error: PostgreSQL would cut it silently, and two
    long names that differ after byte 63 would name the same table."""
    table = target_table(name)
    for part in (table.catalog, table.db, table.name):
        if part and len(part.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
            raise UsageError(f"--target {name}: {part[:20]}… is {len(part.encode('utf-8'))} bytes long; PostgreSQL "
                             f"names are at most {_MAX_IDENTIFIER_BYTES} bytes (it would cut the name silently)",
                             hint=f"Use a table name of at most {_MAX_IDENTIFIER_BYTES} characters.")
    return table


def check_target(con: Any, name: str, columns: Sequence[tuple[str, str]], deadline: Any = None,
                 configured_ms: int = 0) -> None:
    """The pre-flight of a run that writes ``name``: a missing schema or an existing table of
    another shape is a usage error (exit 2). Read-only: nothing is created or locked."""
    import psycopg

    table = pg_target(name)
    try:
        with con.transaction(), con.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            local_timeout(cur, deadline, configured_ms)
            _check(cur, table, columns, name)
    except psycopg.Error as e:
        if timed_out(e) and deadline is not None and deadline.seconds is not None:
            raise RunTimeoutError("postgres cancelled the query: the run's time limit was reached") from None
        raise MetricFailedError(f"postgres could not read {name}: {str(e).strip().splitlines()[0]}") from None


def write_results(con: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str], deadline: Any = None, configured_ms: int = 0) -> int:
    from psycopg import sql

    table = pg_target(name)
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    ident = sql.Identifier(*parts)
    staging = exp.Table(this=exp.to_identifier(_STAGING, quoted=True))
    with con.transaction(), con.cursor() as cur:
        local_timeout(cur, deadline, configured_ms)
        schema = table.db or cur.execute("SELECT current_schema()").fetchone()[0]
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"csframe target {schema}.{table.name}",))
        cur.execute(create_table(table, columns, keys).sql(_DIALECT))  # IF NOT EXISTS
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(ident))
        _check(cur, table, columns, name)  # checked before the run too: as it is now that no writer can change it
        names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
            sql.Identifier(_STAGING),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(exp.DataType.build(t).sql(_DIALECT)))
                               for c, t in columns)))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(_STAGING), names)) as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(delete_matching(table, staging, keys).sql(_DIALECT))
        write_stage(UNCOMMITTED)
        local_timeout(cur, deadline, configured_ms)  # the time left after the delete
        cur.execute(insert_from(table, staging, columns).sql(_DIALECT))
    return len(rows)
