"""The built-in output formats of ``csframe compute``: table, csv, json, jsonl.

``value`` is written as a plain number (integral values without a fraction) or empty /
null; ``table`` shows ratios as percentages, the other formats never round.
"""

from __future__ import annotations

__all__ = ["format_value", "csframe_register_output_formats"]

import csv
import datetime as dt
import json
import math
from typing import Any, TextIO

from csframe.core.hookspecs import hookimpl


def format_value(value: Any) -> Any:
    """A float as an int when it is integral, else as is; NULL stays None."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return value
    return value


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


def write_table(result, stream: TextIO) -> None:
    vi = result.columns.index("value")
    rows = []
    for row in result.rows:
        cells = ["" if v is None else str(_cell(v)) for v in row]
        value = row[vi]
        unit = result.units.get((row[0], row[1]))
        if value is None:
            cells[vi] = "—"
        elif unit == "ratio":
            cells[vi] = f"{value * 100:.2f} %"
        elif isinstance(value, float) and not value.is_integer():
            cells[vi] = f"{value:,.4f}".rstrip("0").rstrip(".")
        else:
            cells[vi] = f"{format_value(value):,}"
        rows.append(cells)
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(result.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(result.columns, widths))
    stream.write(line.rstrip() + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        stream.write("  ".join(c.rjust(w) if i == vi else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n")


@hookimpl
def csframe_register_output_formats(register) -> None:
    register("table", write_table)
    register("csv", write_csv)
    register("json", write_json)
    register("jsonl", write_jsonl)
