"""What a source of ``csframe.toml`` may name: a ``table`` is a dotted identifier and nothing
else, ``sql`` is one read-only query. Anything else is a project error (exit 2) naming the key,
so that no text of the project file becomes SQL it was not meant to be (a DuckDB table
function such as ``read_csv('/etc/passwd')`` written as a ``table``, a second statement or a
write after a ``sql`` query)."""

from __future__ import annotations

__all__ = ["TABLE_HINT", "table_parts", "source_query"]

import re
from typing import Any

import sqlglot
from sqlglot import exp

from .errors import ProjectError

TABLE_HINT = ('Write TABLE, SCHEMA.TABLE or CATALOG.SCHEMA.TABLE: plain names (letters, digits, _, $, -) or '
              'names in double quotes ("odd name", "" for a quote in it); to read anything else, use sql = "SELECT …".')
# a part: a plain name, or a double-quoted one ("" stands for a quote), each followed by a dot or the end
_PART = re.compile(r'(?:([\w$-]+)|"((?:[^"]|"")+)")(\.|$)')
# statements and clauses that write or change something: never part of a source's query
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
           exp.Into, exp.Copy, exp.TruncateTable, exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback)


def table_parts(text: str) -> list[str] | None:
    """The parts of a dotted table name (1 to 3), unquoted, or None when ``text`` is not one."""
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            return None
        parts.append(m.group(1) if m.group(1) is not None else m.group(2).replace('""', '"'))
        pos = m.end()
        if m.group(3) == "." and pos == len(text):  # a trailing dot
            return None
    if not 1 <= len(parts) <= 3 or any("\x00" in p for p in parts):
        return None
    return parts


def source_query(binding: Any, dialect: str) -> exp.Query:
    """A ``sql`` source's query, parsed: exactly one SELECT (or WITH … SELECT, or a set
    operation of SELECTs) that writes nothing; else a ProjectError naming the key."""
    key = f"sources.{binding.name}.sql"
    try:
        trees = [t for t in sqlglot.parse(binding.sql, read=dialect) if t is not None]
    except sqlglot.errors.SqlglotError as e:
        first = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().split("\n")[0]
        raise ProjectError(f"{key}: does not parse as {dialect} SQL: {first}",
                           hint="Write one SELECT query in the engine's SQL.") from None
    if len(trees) != 1:
        raise ProjectError(f"{key}: holds {len(trees)} statements; a source is one query",
                           hint="Write one SELECT (or WITH … SELECT) query, without a ';' and a second statement.")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise ProjectError(f"{key}: must be a query (SELECT or WITH … SELECT), not {type(tree).__name__.upper()}",
                           hint="csframe only reads: write the SELECT that reads the source.")
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise ProjectError(f"{key}: a source's query only reads; it holds {type(node).__name__.upper()}",
                               hint="Write a plain SELECT: no INSERT, UPDATE, DELETE, SELECT INTO or DDL inside.")
    return tree
