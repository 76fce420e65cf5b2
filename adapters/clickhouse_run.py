"""Running csframe's one query on ClickHouse: the CTEs it reads more than once are computed first.

ClickHouse inlines a CTE at every place it is read: csframe's catalog query reads its shared steps
(the customer-period step, ``metric_values``…) once per metric variant, and each copy holds every
step below it, so ClickHouse spent about a second planning even a few metrics and minutes planning
the whole catalog (docs/clickhouse.md). :func:`split_query` splits the top-level ``WITH`` as a tree
rewrite: each CTE referenced two or more times becomes a statement of its own,
``CREATE TEMPORARY TABLE <prefix><name> ENGINE = Memory AS <its SELECT>`` (its body keeps the
once-read CTEs it needs), in order; the rest of the query reads those tables. A temporary table
belongs to the connection (chdb's, or clickhouse-connect's session), so two runs never see each
other's; :func:`run_split` drops them after the query. The numbers are the same: every CTE is a
pure, deterministic query over the same tables; only where ClickHouse computes it changes. The
metrics query comes as csframe's tree (the adapter's ``execute_tree``), split as it is; other SQL
comes as text, parsed first.
"""

from __future__ import annotations

__all__ = ["split_query", "run_split"]

import uuid
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from .shared_ctes import split_shared

_DIALECT = "clickhouse"


def split_query(query: str | exp.Expression, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """([(table name, its CREATE TEMPORARY TABLE statement), …] in order, the query reading those
    tables) of ``query`` (SQL text, or a tree in ClickHouse's dialect, changed in place): the
    top-level CTEs referenced twice or more become temporary tables named ``prefix + name``
    (:func:`~csframe.adapters.shared_ctes.split_shared`, as Spark's views). A query without such a
    CTE (or a ``WITH RECURSIVE``) is returned as it is."""
    parsed = sqlglot.parse_one(query, read=_DIALECT) if isinstance(query, str) else query
    shared, tree = split_shared(parsed, prefix, quoted=True)
    if not shared:
        return [], query if isinstance(query, str) else query.sql(_DIALECT)
    statements = []
    for name, body in shared:
        create = exp.Create(this=exp.Table(this=exp.to_identifier(name, quoted=True)), kind="TABLE",
                            expression=body,
                            properties=exp.Properties(expressions=[exp.TemporaryProperty(),
                                                                   exp.EngineProperty(this=exp.var("Memory"))]))
        statements.append((name, create.sql(_DIALECT)))
    return statements, tree.sql(_DIALECT)


def run_split(query: str | exp.Expression, run: Callable[[str], Any], command: Callable[[str], None],
              drop: Callable[[str], None] | None = None) -> Any:
    """``run(final query)`` after ``command(CREATE TEMPORARY TABLE …)`` for each shared CTE of
    ``query`` (text, or a tree it may change); the temporary tables are dropped after by ``drop`` (default ``command``: give one
    without the run's time limit, so that a run out of time still drops them), whatever happened."""
    drop = drop or command
    prefix = f"csframe_{uuid.uuid4().hex[:10]}_"
    tables, final = split_query(query, prefix)
    made: list[str] = []
    try:
        for name, create in tables:
            command(create)
            made.append(name)
        return run(final)
    finally:
        for name in made:
            try:
                drop(f"DROP TEMPORARY TABLE IF EXISTS {exp.to_identifier(name, quoted=True).sql(_DIALECT)}")
            except Exception:  # noqa: BLE001 - the connection's end drops them too
                pass
