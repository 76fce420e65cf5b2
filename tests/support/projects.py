"""Build a throwaway DuckDB project from rows written inline in a test."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_TYPES = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", decimal.Decimal: "DECIMAL(18,4)", str: "VARCHAR",
          dt.datetime: "TIMESTAMP", dt.date: "DATE"}


def _type(values: list[Any]) -> str:
    for v in values:
        if v is not None:
            t = _TYPES.get(type(v))
            if t:
                return t
    return "VARCHAR"


def write_tables(con, tables: Mapping[str, Sequence[Mapping[str, Any]] | tuple[Sequence[str], Sequence[tuple]]]) -> None:
    """Create each table from a list of dicts (or (columns, rows)), types taken from the values."""
    for name, data in tables.items():
        if isinstance(data, tuple):
            columns, rows = list(data[0]), [tuple(r) for r in data[1]]
        else:
            columns = list(data[0].keys()) if data else []
            rows = [tuple(r.get(c) for c in columns) for r in data]
        types = [_type([r[i] for r in rows]) for i in range(len(columns))]
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(f'CREATE TABLE "{name}" (' + ", ".join(f'"{c}" {t}' for c, t in zip(columns, types)) + ")")
        if rows:
            con.executemany(f'INSERT INTO "{name}" VALUES (' + ", ".join("?" for _ in columns) + ")", rows)


def make_project(directory: Path, tables: Mapping[str, Any], *, toml_extra: str = "", sources: Sequence[str] | None = None) -> Path:
    """A project in ``directory`` with a DuckDB file holding ``tables``, each mapped as its canonical source."""
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "data.duckdb"
    con = duckdb.connect(str(db))
    try:
        write_tables(con, tables)
    finally:
        con.close()
    lines = ['[adapter]', 'name = "duckdb"', 'database = "data.duckdb"', ""]
    for name in sources if sources is not None else tables:
        lines += [f"[sources.{name}]", f'table = "{name}"', ""]
    (directory / "csframe.toml").write_text("\n".join(lines) + "\n" + toml_extra, encoding="utf-8")
    return directory
