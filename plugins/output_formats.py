"""The built-in output formats of ``csframe compute``: table, csv, json, jsonl.

``value`` is written as a plain number (integral values without a fraction) or empty /
null; ``table`` is for a person: it formats each number by its unit (``52.30 %``, ``3.5×``,
``5,888.66``, ``12.4 d``) and adds a ``unit`` column; the other formats never round.
"""

from __future__ import annotations

__all__ = ["format_value", "format_series", "render_table", "write_table", "csframe_register_output_formats"]

import csv
import datetime as dt
import json
from typing import Any, TextIO

from csframe.core.display import format_series, format_value
from csframe.core.hookspecs import hookimpl


def _cell(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return format_value(value)


def write_csv(result, stream: TextIO) -> None:
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(result.columns)
    for row in result.rows:
        w.writerow(["" if v is None else _cell(v) for v in row])


def write_json(result, stream: TextIO) -> None:
    json.dump([{c: _cell(v) for c, v in zip(result.columns, row)} for row in result.rows], stream, indent=1)
    stream.write("\n")


def write_jsonl(result, stream: TextIO) -> None:
    for row in result.rows:
        stream.write(json.dumps({c: _cell(v) for c, v in zip(result.columns, row)}) + "\n")


def render_table(columns: list[str], rows: list[list[Any]], values: dict[int, list[tuple[Any, str | None]]],
                 stream: TextIO) -> None:
    """Write ``rows`` as an aligned text table. ``values`` maps the index of each number column
    to, per row, the series its value belongs to (e.g. its metric variant) and its unit: those
    columns are formatted series by series (:func:`format_series`) and right-aligned; a column
    that is empty in every row (a dimension no row has) is left out."""
    cells = [["" if v is None else str(_cell(v)) for v in row] for row in rows]
    for i, series_of in values.items():
        series: dict[tuple[Any, str | None], list[int]] = {}
        for r, key in enumerate(series_of):
            series.setdefault(key, []).append(r)
        for (_, unit), members in series.items():
            for r, text in zip(members, format_series([rows[r][i] for r in members], unit)):
                cells[r][i] = text
    keep = [i for i in range(len(columns)) if i in values or any(row[i] is not None for row in rows) or not rows]
    head = [columns[i] for i in keep]
    body = [[c[i] for i in keep] for c in cells]
    right = {k for k, i in enumerate(keep) if i in values}
    widths = [max([len(h)] + [len(r[k]) for r in body]) for k, h in enumerate(head)]
    stream.write("  ".join(h.rjust(w) if k in right else h.ljust(w)
                           for k, (h, w) in enumerate(zip(head, widths))).rstrip() + "\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    for r in body:
        stream.write("  ".join(c.rjust(w) if k in right else c.ljust(w)
                               for k, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n")


def write_table(result, stream: TextIO) -> None:
    """The long result as a table for a person: numbers formatted by unit, a ``unit`` column.
    A result with ``value_columns`` (``compare``'s) is shown as it is, each of those columns
    formatted by its unit."""
    if getattr(result, "value_columns", None):
        values = {result.columns.index(c): [(c, unit)] * len(result.rows) for c, unit in result.value_columns.items()}
        render_table(list(result.columns), [list(row) for row in result.rows], values, stream)
        return
    columns = list(result.columns)
    rows = [list(row) for row in result.rows]
    if "unit" not in columns:
        columns.append("unit")
        for row in rows:
            row.append(result.units.get((row[0], row[1])))
    vi = columns.index("value")
    values = {vi: [((row[0], row[1]), result.units.get((row[0], row[1]))) for row in rows]}
    if "compared_value" in columns:  # --vs: the compared value in the metric's unit, the change as a share
        values[columns.index("compared_value")] = values[vi]
        values[columns.index("change")] = [("change", "share")] * len(rows)
    render_table(columns, rows, values, stream)


@hookimpl
def csframe_register_output_formats(register) -> None:
    register("table", write_table)
    register("csv", write_csv)
    register("json", write_json)
    register("jsonl", write_jsonl)
