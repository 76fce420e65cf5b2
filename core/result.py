"""A computed result: long-format rows, their columns, units and warnings."""

from __future__ import annotations

__all__ = ["Result"]

import datetime as dt
from typing import Any

import attrs


@attrs.frozen
class Result:
    """``columns`` is ``metric, variant, period_start, period_end, <dimensions…>, value``.

    ``grain`` is the periods' grain; ``dimension_keys`` names, per metric variant, the
    dimension columns its rows carry (the ``--by`` dimensions and any key of its own);
    ``fingerprints`` each variant's definition fingerprint; ``timings`` seconds per stage.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    units: dict[tuple[str, str], str] = attrs.field(factory=dict)
    warnings: tuple[str, ...] = ()
    sql: str = ""
    grain: str = ""
    dimension_keys: dict[tuple[str, str], tuple[str, ...]] = attrs.field(factory=dict)
    fingerprints: dict[tuple[str, str], str] = attrs.field(factory=dict)
    timings: dict[str, float] = attrs.field(factory=dict)
    written: int | None = None  # rows written to --target, when there was one
    value_columns: dict[str, str] = attrs.field(factory=dict)
    """For a result that is not in the long format (``compare``'s side by side): the columns
    that hold numbers, each with its unit; empty for the long format (``value``)."""

    def with_unit_column(self) -> Result:
        """The result with a last column ``unit``: each row's metric variant's unit."""
        if "unit" in self.columns:
            return self
        return attrs.evolve(self, columns=(*self.columns, "unit"),
                            rows=tuple((*row, self.units.get((row[0], row[1]))) for row in self.rows))

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts with ISO dates, for json and the Python API."""
        out = []
        for row in self.rows:
            rec = {}
            for col, val in zip(self.columns, row):
                rec[col] = val.isoformat() if isinstance(val, (dt.date, dt.datetime)) else val
            out.append(rec)
        return out

    def value(self, metric: str, period_start: dt.date | str, variant: str | None = None, **dims: Any) -> float | None:
        """The one value of ``metric`` (and variant) in the period starting ``period_start``."""
        if isinstance(period_start, str):
            period_start = dt.date.fromisoformat(period_start)
        hits = []
        for rec in self.rows:
            r = dict(zip(self.columns, rec))
            if r["metric"] != metric or r["period_start"] != period_start:
                continue
            if variant is not None and r["variant"] != variant:
                continue
            if any(r.get(k) != v for k, v in dims.items()):
                continue
            hits.append(r["value"])
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} rows for {metric}:{variant} at {period_start} {dims or ''}")
        return hits[0]

    # -- data frames (the library is imported when asked for) ---------------------------
    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` (needs ``pip install 'csframe[arrow]'``)."""
        from .frames import to_arrow

        return to_arrow(self)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs ``pip install 'csframe[pandas]'``)."""
        from .frames import to_pandas

        return to_pandas(self)

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` (needs ``pip install 'csframe[polars]'``)."""
        from .frames import to_polars

        return to_polars(self)
