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
pure, deterministic query over the same tables; only where ClickHouse computes it changes.
"""

from __future__ import annotations

__all__ = ["split_query", "run_split"]

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

_DIALECT = "clickhouse"
MIN_READS = 2  # a CTE read this many times or more is computed first (1, every CTE, measured no faster)


def _reads(node: exp.Expression, names: set[str], skip: exp.Expression | None = None) -> list[exp.Table]:
    """The references in ``node`` to the top-level CTEs ``names`` (no database, no catalog),
    not looking inside ``skip`` (the top-level WITH, whose bodies are walked one by one)."""
    return [t for t in node.walk(prune=lambda n: n is skip)
            if isinstance(t, exp.Table) and t.name in names and not t.args.get("db") and not t.args.get("catalog")]


def _closure(start: set[str], reads: dict[str, set[str]], among: set[str]) -> set[str]:
    """The CTEs of ``among`` read from ``start``, directly or through one another."""
    want: set[str] = set()
    todo = [n for n in start if n in among]
    while todo:
        name = todo.pop()
        if name not in want:
            want.add(name)
            todo += [n for n in reads[name] if n in among]
    return want


def split_query(sql: str, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """([(table name, its CREATE TEMPORARY TABLE statement), …] in order, the query reading those
    tables) of ``sql``: the top-level CTEs referenced twice or more become temporary tables named
    ``prefix + name``. A query without such a CTE (or a ``WITH RECURSIVE``) is returned as it is."""
    tree = sqlglot.parse_one(sql, read=_DIALECT)
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return [], sql
    ctes = list(with_.expressions)
    names = {c.alias_or_name for c in ctes}
    # each CTE body and the final query walked once: who reads which CTE
    tables = {c.alias_or_name: _reads(c.this, names) for c in ctes}
    outer = _reads(tree, names, skip=with_)
    refs = Counter(t.name for found in (*tables.values(), outer) for t in found)
    shared = {c.alias_or_name: prefix + c.alias_or_name for c in ctes if refs[c.alias_or_name] >= MIN_READS}
    if not shared:
        return [], sql
    for found in (*tables.values(), outer):  # FROM steps → FROM "csframe_x_steps" AS steps
        for table in found:
            if table.name in shared:
                if not table.args.get("alias"):
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
                table.set("this", exp.to_identifier(shared[table.name], quoted=True))
    reads = {name: {t.name for t in found} for name, found in tables.items()}  # after renaming: once-read only
    once = names - set(shared)
    statements: list[tuple[str, str]] = []
    for cte in ctes:
        name = cte.alias_or_name
        if name not in shared:
            continue
        body = cte.this
        want = _closure(reads[name], reads, once)
        needed = [c for c in ctes if c.alias_or_name in want]  # each read once: by this statement alone
        if needed:
            inner = body.args.get("with_")
            if isinstance(inner, exp.With):  # a body with a WITH of its own: the outer ones first
                inner.set("expressions", needed + list(inner.expressions))
            else:
                body.set("with_", exp.With(expressions=needed))
        create = exp.Create(this=exp.Table(this=exp.to_identifier(shared[name], quoted=True)), kind="TABLE",
                            expression=body,
                            properties=exp.Properties(expressions=[exp.TemporaryProperty(),
                                                                   exp.EngineProperty(this=exp.var("Memory"))]))
        statements.append((shared[name], create.sql(_DIALECT)))
    # the final query keeps the once-read CTEs it still reads
    want = _closure({t.name for t in outer}, reads, once)
    final = [c for c in ctes if c.alias_or_name in want]
    with_.set("expressions", final)
    if not final:
        tree.set("with_", None)
    return statements, tree.sql(_DIALECT)


def run_split(sql: str, run: Callable[[str], Any], command: Callable[[str], None],
              drop: Callable[[str], None] | None = None) -> Any:
    """``run(final query)`` after ``command(CREATE TEMPORARY TABLE …)`` for each shared CTE of
    ``sql``; the temporary tables are dropped after by ``drop`` (default ``command``: give one
    without the run's time limit, so that a run out of time still drops them), whatever happened."""
    drop = drop or command
    prefix = f"csframe_{uuid.uuid4().hex[:10]}_"
    tables, final = split_query(sql, prefix)
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
