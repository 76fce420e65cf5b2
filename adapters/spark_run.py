"""Running csframe's one query on Spark: the CTEs it reads more than once are computed first.

Spark's analyzer inlines a CTE at every reference: csframe's catalog query reads its
``metric_values`` step once per metric variant (69 times), and each of those copies holds every
step below it, so analysing the query as one statement ran out of the driver's heap (1 GiB)
before any row was read. So :func:`run_query` splits the top-level ``WITH``: each CTE referenced
two or more times is computed on its own, in order, into a checkpointed DataFrame (its plan
becomes a leaf: ``localCheckpoint``) registered as a temporary view of the adapter's session
under a name of its own; the rest of the query reads those views. The numbers are the same:
every CTE is a pure, deterministic query over the same tables; only where Spark computes it
changes. The views are dropped after the query. The metrics query comes as csframe's tree
(the adapter's ``execute_tree``), split as it is; other SQL comes as text, parsed first.
"""

from __future__ import annotations

__all__ = ["split_query", "run_query"]

import uuid
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from .shared_ctes import split_shared

_DIALECT = "spark"


def split_query(query: str | exp.Expression, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """([(view name, its SQL), …] in order, the final query reading those views) of ``query``
    (SQL text, or a tree in Spark's dialect, changed in place): the top-level CTEs referenced
    twice or more become views named ``prefix + name``; each view's SQL and the final query keep
    only the once-read CTEs they read (:mod:`.shared_ctes`)."""
    tree = sqlglot.parse_one(query, read=_DIALECT) if isinstance(query, str) else query
    views, rest = split_shared(tree, prefix)
    if not views:
        return [], query if isinstance(query, str) else query.sql(_DIALECT)
    return [(name, body.sql(_DIALECT)) for name, body in views], rest.sql(_DIALECT)


def run_query(session: Any, query: str | exp.Expression, fetch: Callable[[Any], Any]) -> Any:
    """``fetch(frame)`` of ``query`` (text, or a tree it may change) run on ``session``, its
    shared CTEs computed first."""
    prefix = f"csframe_{uuid.uuid4().hex[:10]}_"
    views, final = split_query(query, prefix)
    made: list[str] = []
    try:
        for name, body in views:
            session.sql(body).localCheckpoint(eager=True).createOrReplaceTempView(name)
            made.append(name)
        return fetch(session.sql(final))
    finally:
        for name in made:
            session.catalog.dropTempView(name)
