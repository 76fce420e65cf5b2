"""The top-level CTEs a query reads twice or more, split out as statements computed first (a tree
rewrite, no dialect): for engines that inline a CTE at every place it is read (Spark; ClickHouse's
adapters/clickhouse_run.py does the same split into temporary tables).

:func:`split_shared` renames each reference to a shared CTE ``x`` to ``<prefix>x AS x`` and gives
each shared CTE's body, and the final query, only the once-read CTEs it needs (directly or through
one another): a CTE nobody reads is not carried along, so the engine does not analyse it again and
again (Spark analyses every CTE of a WITH, read or not)."""

from __future__ import annotations

__all__ = ["split_shared"]

from collections import Counter

from sqlglot import exp

MIN_READS = 2  # a CTE read this many times or more is computed first


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


def split_shared(tree: exp.Expression, prefix: str,
                 quoted: bool = False) -> tuple[list[tuple[str, exp.Expression]], exp.Expression]:
    """([(name, body), …] of the shared CTEs in order, the rest of the query), both reading the
    shared ones as ``prefix + name`` (a quoted identifier when ``quoted``); ``tree`` is changed in
    place. A query without a shared CTE (or a ``WITH RECURSIVE``) gives ``([], tree)``."""
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return [], tree
    ctes = list(with_.expressions)
    names = {c.alias_or_name for c in ctes}
    tables = {c.alias_or_name: _reads(c.this, names) for c in ctes}  # each body and the final query walked once
    outer = _reads(tree, names, skip=with_)
    refs = Counter(t.name for found in (*tables.values(), outer) for t in found)
    shared = {c.alias_or_name: prefix + c.alias_or_name for c in ctes if refs[c.alias_or_name] >= MIN_READS}
    if not shared:
        return [], tree
    for found in (*tables.values(), outer):  # FROM steps → FROM <prefix>steps AS steps
        for table in found:
            if table.name in shared:
                if not table.args.get("alias"):
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
                table.set("this", exp.to_identifier(shared[table.name], quoted=quoted))
    reads = {name: {t.name for t in found} for name, found in tables.items()}  # after renaming: once-read only
    once = names - set(shared)
    out: list[tuple[str, exp.Expression]] = []
    for cte in ctes:
        name = cte.alias_or_name
        if name not in shared:
            continue
        body = cte.this
        needed = [c for c in ctes if c.alias_or_name in _closure(reads[name], reads, once)]
        if needed:
            inner = body.args.get("with_")
            if isinstance(inner, exp.With):  # a body with a WITH of its own: the outer ones first
                inner.set("expressions", needed + list(inner.expressions))
            else:
                body.set("with_", exp.With(expressions=needed))
        out.append((shared[name], body))
    final = [c for c in ctes if c.alias_or_name in _closure({t.name for t in outer}, reads, once)]
    with_.set("expressions", final)
    if not final:
        tree.set("with_", None)
    return out, tree
