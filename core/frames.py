"""A :class:`~csframe.core.result.Result` as a data frame: Arrow, pandas or polars.

Each library is imported when asked for; a missing one is a clear error naming the extra
that installs it. Columns keep the result's order; ``period_start``/``period_end`` are
dates (Arrow ``date32``, polars ``Date``, pandas ``datetime64``), ``value`` a float (NULL
as null / NaN), dimensions as they came from the engine (strings in practice): a dimension
with no value at all is a string column of nulls, and integers with nulls stay integers
(pandas ``Int64``).
"""

from __future__ import annotations

__all__ = ["to_arrow", "to_pandas", "to_polars", "require"]

import importlib
import json
from typing import Any

from .errors import MissingDependencyError

_EXTRAS = {"pyarrow": "arrow", "pandas": "pandas", "polars": "polars"}
_DATES = ("period_start", "period_end")


def require(module: str, what: str) -> Any:
    """Import ``module`` or raise an error naming the csframe extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        extra = _EXTRAS.get(top, top)
        raise MissingDependencyError(
            f"{what} needs {top}, which is not installed",
            hint=f"pip install 'csframe[{extra}]'",
        ) from None


def _columns(result: Any) -> dict[str, list]:
    return {c: [row[i] for row in result.rows] for i, c in enumerate(result.columns)}


def _dimension_kind(values: list) -> str | None:
    """"string" or "int" when every value that is not NULL is one (or there is none)."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, str) for v in present):
        return "string"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    return None


def _metadata(result: Any) -> dict[str, str]:
    return {
        "csframe.grain": result.grain or "",
        "csframe.units": json.dumps({f"{m}:{v}": u for (m, v), u in result.units.items()}, sort_keys=True),
        "csframe.fingerprints": json.dumps({f"{m}:{v}": f for (m, v), f in result.fingerprints.items()}, sort_keys=True),
    }


def to_arrow(result: Any) -> Any:
    pa = require("pyarrow", "Result.to_arrow()")
    data = _columns(result)
    fields = []
    for c in result.columns:
        if c in _DATES:
            t = pa.date32()
        elif c == "value":
            t = pa.float64()
            data[c] = [None if v is None else float(v) for v in data[c]]
        elif c in ("metric", "variant"):
            t = pa.string()
        else:
            t = {"string": pa.string(), "int": pa.int64()}.get(_dimension_kind(data[c]))
        fields.append((c, t))
    arrays = [pa.array(data[c], type=t) if t is not None else pa.array(data[c]) for c, t in fields]
    schema = pa.schema([pa.field(c, a.type) for (c, _), a in zip(fields, arrays)], metadata=_metadata(result))
    return pa.Table.from_arrays(arrays, schema=schema)


def to_pandas(result: Any) -> Any:
    pd = require("pandas", "Result.to_pandas()")
    data = _columns(result)
    frame = pd.DataFrame({c: data[c] for c in result.columns}, columns=list(result.columns))
    for c in _DATES:
        frame[c] = pd.to_datetime(frame[c])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    for c in result.columns:
        if c not in (*_DATES, "value", "metric", "variant") and _dimension_kind(data[c]) == "int":
            frame[c] = pd.array(data[c], dtype="Int64")
    frame.attrs.update(_metadata(result))
    return frame


def to_polars(result: Any) -> Any:
    pl = require("polars", "Result.to_polars()")
    data = _columns(result)
    series = []
    for c in result.columns:
        if c in _DATES:
            series.append(pl.Series(c, data[c], dtype=pl.Date))
        elif c == "value":
            series.append(pl.Series(c, [None if v is None else float(v) for v in data[c]], dtype=pl.Float64))
        elif c in ("metric", "variant"):
            series.append(pl.Series(c, data[c], dtype=pl.String))
        else:
            kind = {"string": pl.String, "int": pl.Int64}.get(_dimension_kind(data[c]))
            series.append(pl.Series(c, data[c], dtype=kind, strict=False))
    return pl.DataFrame(series)
