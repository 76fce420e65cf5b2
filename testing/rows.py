"""Rows a test gives, as typed tables: text tables, CSV, TOML, JSON and YAML files, lists of dicts
and ``(columns, tuples)`` pairs become the canonical sources of the data contract
(:func:`load_rows`; the forms are described in :mod:`csframe.testing`)."""

from __future__ import annotations

__all__ = ["REPEAT", "RowsError", "Column", "Table", "Dataset", "load_rows", "text_header"]

import csv
import datetime as dt
import decimal
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from csframe.core.contract import SOURCES, source
from csframe.core.dataset import Column, Dataset, Table
from csframe.core.errors import did_you_mean

REPEAT = "_repeat"


class RowsError(ValueError):
    """Rows a test gives that cannot become a canonical source."""


_FILES = (".csv", ".toml", ".json", ".yaml", ".yml")
_SEPARATOR = re.compile(r"^\|?[\s:|+-]*-[\s:|+-]*\|?$")  # a markdown table's |---|---| line
_COMMENT = re.compile(r"(^|\s)#.*$")  # a '#' at the start or after a space: the rest of the line is a comment
_NULLS = {"", "NULL", "null"}
_AUTO_ID = {s.name: s.key[0] for s in SOURCES if s.key and s.key[0].endswith("_id") and s.key[0] != s.customer_column}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def text_header(name: str) -> str:
    """The header of the smallest text table for source ``name``: the columns a row must give
    (``customer_id | started_at | ended_at | mrr``; the numbered id and the optional ones left out)."""
    return " | ".join(c.name for c in source(name).columns if not c.optional and c.name != _AUTO_ID.get(name))


def _cell(text: str) -> str | None:
    text = text.strip()
    return None if text in _NULLS else text


def _text_table(text: str, where: str) -> list[dict[str, Any]]:
    lines = [_COMMENT.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not _SEPARATOR.match(ln)]
    if not lines:
        return []
    if "|" in lines[0]:
        left, right = lines[0].startswith("|"), lines[0].endswith("|")  # a border is the header's

        def cells(line: str) -> list[str]:
            line = line[1:] if left and line.startswith("|") else line
            line = line[:-1] if right and line.endswith("|") else line
            return line.split("|")
        parsed = [cells(ln) for ln in lines]
    else:
        parsed = list(csv.reader(lines, skipinitialspace=True))
    header = [h.strip() for h in parsed[0]]
    out = []
    for n, cells_ in enumerate(parsed[1:], 2):
        if len(cells_) != len(header):
            raise RowsError(f"{where}, line {n}: {len(cells_)} cells for {len(header)} columns ({', '.join(header)})")
        out.append({h: _cell(c) for h, c in zip(header, cells_)})
    return out


def _csv_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise RowsError(f"rows: no file {path}")
    # utf-8-sig: a CSV saved by Excel ("CSV UTF-8") starts with a byte-order mark, which would
    # otherwise stick to the first column's name
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k.strip(): _cell(v or "") for k, v in r.items()} for r in csv.DictReader(f, skipinitialspace=True)]


def _read_file(path: Path) -> dict[str, Any]:
    """source → raw rows, from a .toml/.json/.yaml file, a <source>.csv, or a directory of them."""
    if path.is_dir():
        out: dict[str, Any] = {}
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in _FILES:
                out.update(_read_file(child))
        return out
    if not path.is_file():
        raise RowsError(f"rows: no file {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return {path.stem: _csv_records(path)}
    text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, if an editor wrote one, is not data
    if suffix == ".toml":
        data = tomllib.loads(text)
    elif suffix == ".json":
        data = json.loads(text)
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise RowsError(f"rows: reading {path.name} needs PyYAML (pip install 'csframe[yaml]'); "
                            "TOML, JSON and CSV need nothing") from None
        data = yaml.safe_load(text)
    else:
        raise RowsError(f"rows: cannot read {path.name}; use {', '.join(_FILES)} or a directory of <source>.csv")
    if not isinstance(data, Mapping):
        raise RowsError(f"rows: {path.name} must map source names to rows")
    return dict(data)


def _records(name: str, data: Any, base_dir: Path | None) -> list[dict[str, Any]]:
    where = f"rows of {name}"
    if isinstance(data, os.PathLike) or (isinstance(data, str) and "\n" not in data
                                         and data.strip().lower().endswith(_FILES)):
        path = _resolve(data, base_dir)
        if path.suffix.lower() != ".csv":
            raise RowsError(f"{where}: {path.name}: a file for one source is a .csv; "
                            "pass .toml/.json/.yaml as the whole rows")
        return _csv_records(path)
    if isinstance(data, str):
        return _text_table(data, where)
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(c, str) for c in data[0]):
        columns = list(data[0])
        out = []
        for n, row in enumerate(data[1], 1):
            if len(row) != len(columns):
                raise RowsError(f"{where}, row {n}: {len(row)} values for {len(columns)} columns")
            out.append(dict(zip(columns, row)))
        return out
    if isinstance(data, Iterable) and not isinstance(data, (bytes, Mapping)):
        out = []
        for n, row in enumerate(data, 1):
            if not isinstance(row, Mapping):
                raise RowsError(f"{where}, row {n}: a row is a dict of column → value, not {type(row).__name__}")
            out.append(dict(row))
        return out
    raise RowsError(f"{where}: give a text table, a list of dicts, (columns, rows) or a .csv file")


def _resolve(path: str | os.PathLike, base_dir: Path | None) -> Path:
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def _utc_naive(v: dt.datetime) -> dt.datetime:
    return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v


def _coerce(value: Any, type_: str, where: str) -> Any:
    if value is None:
        return None
    kind = type_.split("(")[0].strip().upper()
    try:
        if kind == "VARCHAR":
            return value if isinstance(value, str) else str(value)
        if kind == "TIMESTAMP":
            if isinstance(value, dt.datetime):
                return _utc_naive(value)
            if isinstance(value, dt.date):
                return dt.datetime(value.year, value.month, value.day)
            if isinstance(value, str):
                return _utc_naive(dt.datetime.fromisoformat(value.strip()))
        elif kind == "DATE":
            if isinstance(value, dt.datetime):
                return _utc_naive(value).date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                return dt.datetime.fromisoformat(value.strip()).date()
        elif kind == "DECIMAL" and not isinstance(value, bool):
            return decimal.Decimal(str(value).strip())
        elif kind == "DOUBLE" and not isinstance(value, bool):
            return float(value)
        elif kind in ("BIGINT", "INTEGER") and not isinstance(value, bool):
            return int(value)
        elif kind == "BOOLEAN":
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
    except (ValueError, TypeError, ArithmeticError):
        pass
    what = {"TIMESTAMP": "a timestamp (YYYY-MM-DD[ HH:MM[:SS]])", "DATE": "a date (YYYY-MM-DD)",
            "BOOLEAN": "a boolean (true/false)"}.get(kind, f"a {type_} value")
    raise RowsError(f"{where}: {value!r} is not {what}")


def _infer(values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds <= {str}:
        return "VARCHAR"
    if kinds <= {bool}:
        return "BOOLEAN"
    if kinds <= {int}:
        return "BIGINT"
    if kinds <= {int, float}:
        return "DOUBLE"
    if kinds <= {int, decimal.Decimal}:
        return "DECIMAL(38, 9)"
    if kinds <= {dt.datetime}:
        return "TIMESTAMP"
    if kinds <= {dt.date}:
        return "DATE"
    return "VARCHAR"


def _expand(records: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    out = []
    for n, record in enumerate(records, 1):
        if REPEAT not in record:
            out.append(record)
            continue
        record = dict(record)
        times = record.pop(REPEAT)
        try:
            times = int(times)
        except (TypeError, ValueError):
            raise RowsError(f"{where}, row {n}: {REPEAT} must be a whole number, not {times!r}") from None
        for i in range(times):
            out.append({k: v.replace("{i}", str(i)) if isinstance(v, str) else v for k, v in record.items()})
    return out


def _table(name: str, records: list[dict[str, Any]]) -> Table:
    names = [s.name for s in SOURCES]
    if name not in names:
        raise RowsError(f"rows: unknown source {name!r}.{did_you_mean(name, names)} Sources: {', '.join(names)}")
    src = source(name)
    where = f"rows of {name}"
    records = _expand(records, where)
    present = list(dict.fromkeys(k for r in records for k in r))
    columns: list[Column] = []
    generated = None
    for col in src.columns:
        if col.name in present or not records:
            if col.name in present or not col.optional:
                columns.append(Column(col.name, col.type))
        elif col.optional:
            continue  # left out: the data contract's default applies
        elif _AUTO_ID.get(name) == col.name:
            columns.append(Column(col.name, col.type))
            generated = col.name
        elif col.nullable:
            columns.append(Column(col.name, col.type))
        else:
            raise RowsError(f"{where}: no column {col.name} (the data contract's {name} has "
                            f"{', '.join(src.column_names)}; optional: "
                            f"{', '.join(c.name for c in src.columns if c.optional) or 'none'})")
    for extra in present:
        if extra not in src.column_names:
            columns.append(Column(extra, _infer([r.get(extra) for r in records])))
    rows = []
    for n, r in enumerate(records, 1):
        row = []
        for c in columns:
            value = f"{name}-{n}" if c.name == generated else r.get(c.name)
            row.append(_coerce(value, c.type, f"{where}, row {n}, column {c.name}"))
        rows.append(tuple(row))
    return Table(name, tuple(columns), rows)


def load_rows(rows: Mapping[str, Any] | str | os.PathLike, base_dir: str | os.PathLike | None = None) -> Dataset:
    """The typed tables of ``rows`` (see the module's docs for the forms it takes)."""
    base = Path(base_dir) if base_dir is not None else None
    if isinstance(rows, (str, os.PathLike)):
        raw = _read_file(_resolve(rows, base))
    elif isinstance(rows, Mapping):
        raw = dict(rows)
    else:
        raise RowsError(f"rows: give a dict of source → rows, or a file; not {type(rows).__name__}")
    order = {s.name: i for i, s in enumerate(SOURCES)}
    tables = [_table(name, _records(name, data, base)) for name, data in raw.items()]
    return Dataset(tuple(sorted(tables, key=lambda t: order.get(t.name, len(order)))))
